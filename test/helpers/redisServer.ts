/**
 * A real redis-server for a test, on a free loopback port, keeping nothing on disk; stopped by the
 * test. The program comes from the system (Debian's redis-server; scripts/queue-services.sh
 * install puts it there).
 */
import { spawn, type ChildProcess } from 'child_process';
import { createServer, Socket } from 'net';

async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/** Whether redis answers PING on the port. */
async function pong(port: number): Promise<boolean> {
	return await new Promise((resolve) => {
		const socket = new Socket();
		const done = (answer: boolean) => {
			socket.destroy();
			resolve(answer);
		};
		socket.setTimeout(1000, () => done(false));
		socket.once('error', () => done(false));
		socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
		socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
	});
}

export class RedisServer {
	private constructor(
		private child: ChildProcess,
		readonly port: number,
	) {}

	static async start(port?: number): Promise<RedisServer> {
		const chosen = port ?? (await freePort());
		const child = spawn(
			'redis-server',
			['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
			{ stdio: 'ignore' },
		);
		const server = new RedisServer(child, chosen);
		const deadline = Date.now() + 20_000;
		while (!(await pong(chosen))) {
			if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
			if (Date.now() > deadline) {
				await server.stop();
				throw new Error(`redis-server does not answer on port ${chosen}`);
			}
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		return server;
	}

	get settings() {
		return { host: '127.0.0.1', port: this.port };
	}

	async stop(): Promise<void> {
		if (this.child.exitCode !== null || this.child.signalCode !== null) return;
		const exited = new Promise((resolve) => this.child.once('exit', resolve));
		this.child.kill('SIGTERM');
		await exited;
	}

	/** Starts it again on the same port (after `stop`). */
	async restart(): Promise<void> {
		await this.stop();
		this.child = (await RedisServer.start(this.port)).child;
	}
}
