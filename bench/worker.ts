// A child process spoken to in JSON lines (one request, one reply), for the benchmark's sides.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as readline from "node:readline";

export class Worker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterableIterator<string>;
  private stderr = "";

  constructor(readonly label: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.on("data", (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    this.lines = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** The next reply line as JSON (the first one is the worker's ready message). */
  async read<T = Record<string, unknown>>(): Promise<T> {
    const next = await this.lines.next();
    if (next.done) throw new Error(`${this.label}: the worker exited (exit ${this.child.exitCode}); its stderr:\n${this.stderr}`);
    try {
      return JSON.parse(next.value) as T;
    } catch {
      throw new Error(`${this.label}: not a JSON reply: ${next.value.slice(0, 200)}`);
    }
  }

  async ask<T = Record<string, unknown>>(msg: object): Promise<T> {
    this.child.stdin.write(JSON.stringify(msg) + "\n");
    return this.read<T>();
  }

  async quit(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    if (this.child.exitCode === null) this.child.stdin.write(JSON.stringify({ cmd: "quit" }) + "\n");
    await exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}
