import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as zmq from "zeromq";

/**
 * A minimal Jupyter client (messaging protocol 5.3 over ZeroMQ) for tests: starts a tslab kernel,
 * executes cells, and collects what the kernel publishes on IOPub for each one.
 */

export interface Message {
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

export interface Execution {
  reply: Message;
  /** IOPub messages whose parent is the request, up to the kernel's "idle" for it. */
  outputs: Message[];
}

const DELIM = "<IDS|MSG>";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export class Kernel {
  private readonly key = randomBytes(16).toString("hex");
  private readonly session = randomUUID();
  private shell = new zmq.Dealer();
  private iopub = new zmq.Subscriber();
  private proc?: ChildProcess;
  private readonly pending = new Map<string, Message[]>();
  private readonly idle = new Map<string, () => void>();
  log = "";

  private sign(parts: string[]): string {
    const h = createHmac("sha256", this.key);
    for (const p of parts) h.update(p);
    return h.digest("hex");
  }

  private decode(frames: Buffer[]): Message {
    const i = frames.findIndex((f) => f.toString() === DELIM);
    const [sig, ...parts] = frames.slice(i + 1, i + 6).map((f) => f.toString());
    if (sig !== this.sign(parts)) throw new Error("bad signature from the kernel");
    const [header, parent_header, metadata, content] = parts.map((p) => JSON.parse(p));
    return { header, parent_header, metadata, content };
  }

  /** Starts `command ... {connection_file}` (argv as in a kernel.json) in `cwd`. */
  async start(argv: string[], cwd: string, dir: string): Promise<void> {
    const ports = await Promise.all([0, 1, 2, 3, 4].map(() => freePort()));
    const conn = {
      ip: "127.0.0.1",
      transport: "tcp",
      shell_port: ports[0],
      iopub_port: ports[1],
      stdin_port: ports[2],
      control_port: ports[3],
      hb_port: ports[4],
      key: this.key,
      signature_scheme: "hmac-sha256",
    };
    const file = path.join(dir, "kernel.json");
    fs.writeFileSync(file, JSON.stringify(conn));
    this.proc = spawn(argv[0], [...argv.slice(1).map((a) => a.replace("{connection_file}", file))], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stdout!.on("data", (d) => (this.log += d));
    this.proc.stderr!.on("data", (d) => (this.log += d));
    this.shell.connect(`tcp://127.0.0.1:${conn.shell_port}`);
    this.iopub.connect(`tcp://127.0.0.1:${conn.iopub_port}`);
    this.iopub.subscribe();
    void this.pump();
    // The kernel is up when it answers kernel_info (IOPub may miss early messages: retry).
    for (let attempt = 0; attempt < 60; attempt++) {
      let timer: NodeJS.Timeout | undefined;
      const reply = await Promise.race([this.request("kernel_info_request", {}), new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 1000)))]);
      clearTimeout(timer);
      if (reply) return;
      if (this.proc.exitCode !== null) throw new Error(`kernel exited: ${this.log}`);
    }
    throw new Error(`kernel did not answer: ${this.log}`);
  }

  private async pump(): Promise<void> {
    try {
      for await (const frames of this.iopub) {
        const msg = this.decode(frames as Buffer[]);
        const parent = msg.parent_header.msg_id;
        if (!parent) continue;
        (this.pending.get(parent) ?? this.pending.set(parent, []).get(parent)!).push(msg);
        if (msg.header.msg_type === "status" && msg.content.execution_state === "idle") this.idle.get(parent)?.();
      }
    } catch {
      // closed
    }
  }

  private shellBusy: Promise<unknown> = Promise.resolve();

  private request(msg_type: string, content: object): Promise<Message> {
    const run = async () => {
      const header = { msg_id: randomUUID(), msg_type, session: this.session, username: "test", date: new Date().toISOString(), version: "5.3" };
      const parts = [JSON.stringify(header), "{}", "{}", JSON.stringify(content)];
      await this.shell.send([DELIM, this.sign(parts), ...parts]);
      for (;;) {
        const reply = this.decode((await this.shell.receive()) as Buffer[]);
        if (reply.parent_header.msg_id === header.msg_id) return reply;
      }
    };
    const p = this.shellBusy.then(run);
    this.shellBusy = p.catch(() => undefined);
    return p;
  }

  /** Executes a cell; resolves once the kernel is idle again for it. */
  async execute(code: string): Promise<Execution> {
    const idle = new Promise<void>((resolve) => {
      // The request id is known only after sending; register lazily below.
      this.nextIdle = resolve;
    });
    const reply = await this.request("execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
    const id = reply.parent_header.msg_id!;
    const done = this.nextIdle!;
    this.nextIdle = undefined;
    if ((this.pending.get(id) ?? []).some((m) => m.header.msg_type === "status" && m.content.execution_state === "idle")) done();
    else this.idle.set(id, done);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([idle, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no idle after execute: ${this.log}`)), 60_000)))]);
    } finally {
      clearTimeout(timer);
    }
    return { reply, outputs: (this.pending.get(id) ?? []).filter((m) => m.header.msg_type !== "status" && m.header.msg_type !== "execute_input") };
  }

  private nextIdle?: () => void;

  async stop(): Promise<void> {
    this.shell.close();
    this.iopub.close();
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc!.once("exit", r));
      this.proc.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
    }
  }
}
