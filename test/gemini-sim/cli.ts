/**
 * npm run gemini-sim
 *
 * Starts the Gemini simulator on 127.0.0.1:$PORT (default 8787) until SIGINT or SIGTERM.
 * Optional: GEMINI_SIM_API_KEY, GEMINI_SIM_EXPRESS_API_KEY (Vertex AI express), GEMINI_SIM_LATENCY_MS, GEMINI_SIM_IMAGE_FORMAT (png|jpeg),
 * GEMINI_SIM_IMAGE_TEXTURE (flat|noise: images the size of real ones),
 * GEMINI_SIM_BATCH_DELAY_MS, GEMINI_SIM_QUOTA (e.g. 10/10s: quota mode), GEMINI_SIM_MISRENDER_TEXT (PERCENT[:SEED],
 * e.g. 50: that share of images misspell their prompt's quoted text). Control it over HTTP with the /__sim/* routes.
 */
import { GeminiSim } from './index';

/** '10/10s' or '5/60s': requests per window. */
function parseQuota(text: string | undefined) {
	const match = /^(\d+)\/(\d+(?:\.\d+)?)s$/.exec(text?.trim() ?? '');
	return match ? { requests: Number(match[1]), windowMs: Number(match[2]) * 1000 } : undefined;
}

/** '50' or '50:7': percent of images that misspell their quoted text, and the seed. */
function parseMisrendering(text: string | undefined) {
	const match = /^(\d+(?:\.\d+)?)(?::(\d+))?$/.exec(text?.trim() ?? '');
	return match
		? { percent: Number(match[1]), seed: match[2] === undefined ? undefined : Number(match[2]) }
		: undefined;
}

async function main() {
	const env = process.env;
	const sim = await GeminiSim.start({
		port: Number(env.PORT ?? 8787),
		apiKey: env.GEMINI_SIM_API_KEY || undefined,
		expressApiKey: env.GEMINI_SIM_EXPRESS_API_KEY || undefined,
		latencyMs: env.GEMINI_SIM_LATENCY_MS ? Number(env.GEMINI_SIM_LATENCY_MS) : undefined,
		imageFormat: env.GEMINI_SIM_IMAGE_FORMAT === 'jpeg' ? 'jpeg' : undefined,
		imageTexture: env.GEMINI_SIM_IMAGE_TEXTURE === 'noise' ? 'noise' : undefined,
		batchDelayMs: env.GEMINI_SIM_BATCH_DELAY_MS ? Number(env.GEMINI_SIM_BATCH_DELAY_MS) : undefined,
		quota: parseQuota(env.GEMINI_SIM_QUOTA),
		misrenderText: parseMisrendering(env.GEMINI_SIM_MISRENDER_TEXT),
	});
	process.stdout.write(
		`Gemini simulator listening on ${sim.url}\nAPI key: ${sim.apiKey}\nVertex AI express key: ${sim.expressApiKey}\n`,
	);

	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) return;
		stopping = true;
		await sim.stop();
		process.stdout.write(`Gemini simulator stopped (${signal})\n`);
		process.exit(0);
	};
	process.on('SIGINT', () => void stop('SIGINT'));
	process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: Error) => {
	process.stderr.write(`${error.stack ?? error.message}\n`);
	process.exit(1);
});
