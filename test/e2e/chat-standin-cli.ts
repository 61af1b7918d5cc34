/**
 * The chat-model stand-in alone, for `npm start`: an OpenAI-compatible endpoint that runs the
 * examples' agent script (draw, edit, check, write the post). It makes tool calls; it does not think.
 *
 *   ts-node test/e2e/chat-standin-cli.ts        # CHAT_STANDIN_PORT (8788)
 */
import { ChatStandIn, POST_WITH_PICTURE, postWithPictureEnd } from './chat-standin';

async function main(): Promise<void> {
	const chat = new ChatStandIn({ default: POST_WITH_PICTURE }, { default: postWithPictureEnd });
	await chat.start(Number(process.env.CHAT_STANDIN_PORT ?? 8788));
	console.log(`chat model stand-in on ${chat.url}`);
	const stop = () => void chat.stop().then(() => process.exit(0));
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

void main();
