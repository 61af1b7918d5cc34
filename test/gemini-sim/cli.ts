/**
 * npm run gemini-sim
 *
 * Starts the Gemini simulator on 127.0.0.1:$PORT (default 8787) until SIGINT or SIGTERM.
 * Optional: GEMINI_SIM_API_KEY, GEMINI_SIM_LATENCY_MS, GEMINI_SIM_IMAGE_FORMAT (png|jpeg),
 * GEMINI_SIM_BATCH_DELAY_MS. Control it over HTTP with the /__sim/* routes.
 */
import { GeminiSim } from './index';

async function main() {
	const env = process.env;
	const sim = await GeminiSim.start({
		port: Number(env.PORT ?? 8787),
		apiKey: env.GEMINI_SIM_API_KEY || undefined,
		latencyMs: env.GEMINI_SIM_LATENCY_MS ? Number(env.GEMINI_SIM_LATENCY_MS) : undefined,
		imageFormat: env.GEMINI_SIM_IMAGE_FORMAT === 'jpeg' ? 'jpeg' : undefined,
		batchDelayMs: env.GEMINI_SIM_BATCH_DELAY_MS ? Number(env.GEMINI_SIM_BATCH_DELAY_MS) : undefined,
	});
	process.stdout.write(`Gemini simulator listening on ${sim.url}\nAPI key: ${sim.apiKey}\n`);

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
