import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChatEnvelope, ChildInit, ChildReply, ParentRequest, PulledRecord } from './protocol';
import { SECURITY_REVERT_PKCS1, pkcs1DecryptNeedsRevert } from './rsa';

const childEntry = fileURLToPath(new URL('./child.ts', import.meta.url));

/** The child ended (native crash, kill, out of memory): every pending call fails with this. */
export class ChildGoneError extends Error {
  constructor(
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(`SDK child exited (${signal ? `signal ${signal}` : `code ${code}`})`);
  }
}

/** An SDK call the library reported as failed (rc != 0); the child is still alive. */
export class SdkError extends Error {
  constructor(
    message: string,
    readonly rc: number | undefined,
  ) {
    super(message);
  }
}

export interface SdkChildOptions {
  init: Omit<ChildInit, 'type'>;
  /** a call that has not answered within this is treated as a hung library: the child is killed */
  callTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

interface Pending {
  resolve: (reply: ChildReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Parent side of one SDK sandbox child: fork, init, request/response with timeouts. It never
 * restarts anything itself; the corp puller decides (with backoff) and resumes from its checkpoint.
 */
export class SdkChild {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited: ChildGoneError | undefined;

  constructor(private readonly options: SdkChildOptions) {}

  get pid(): number | undefined {
    return this.exited ? undefined : this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== undefined && this.exited === undefined;
  }

  async start(): Promise<void> {
    if (this.alive) throw new Error('SDK child already running');
    this.exited = undefined;
    const execArgv = ['--enable-source-maps', '--import', 'tsx'];
    if (pkcs1DecryptNeedsRevert()) execArgv.push(SECURITY_REVERT_PKCS1);
    const child = fork(childEntry, [], {
      execArgv,
      serialization: 'advanced',
      env: this.options.env ?? process.env,
      // stdout/stderr of the library (and Node's revert notice) go to the service log
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    // 'error' (spawn failure, a send on a closed channel) must never reach the service as an
    // unhandled event: the exit that follows fails the pending calls
    child.on('error', () => undefined);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('SDK child did not initialise in time'));
      }, this.options.callTimeoutMs);
      const onMessage = (reply: ChildReply) => {
        if (reply.type === 'ready') {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve();
        } else if (reply.type === 'fatal') {
          clearTimeout(timer);
          child.off('message', onMessage);
          reject(new SdkError(`SDK initialisation failed: ${reply.error}`, reply.rc));
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new ChildGoneError(code, signal));
      });
    });
    child.on('message', (reply: ChildReply) => this.onReply(reply));
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.exited = new ChildGoneError(code, signal);
      for (const [id, call] of this.pending) {
        clearTimeout(call.timer);
        call.reject(this.exited);
        this.pending.delete(id);
      }
    });
    child.send({ type: 'init', ...this.options.init } satisfies ChildInit, (err) => {
      if (err) child.kill('SIGKILL');
    });
    await ready;
  }

  async pull(seq: number, limit: number): Promise<PulledRecord[]> {
    const reply = await this.call({ type: 'pull', id: 0, seq, limit });
    if (reply.type !== 'pulled') throw new Error(`unexpected reply ${reply.type} to pull`);
    return reply.records.map((r) => (r.ok ? { ...r, plaintext: Buffer.from(r.plaintext) } : r));
  }

  async decrypt(envelopes: ChatEnvelope[]): Promise<PulledRecord[]> {
    const reply = await this.call({ type: 'decrypt', id: 0, envelopes });
    if (reply.type !== 'pulled') throw new Error(`unexpected reply ${reply.type} to decrypt`);
    return reply.records.map((r) => (r.ok ? { ...r, plaintext: Buffer.from(r.plaintext) } : r));
  }

  async mediaChunk(
    sdkfileid: string,
    index: Buffer,
  ): Promise<{ data: Buffer; outIndex: Buffer; finished: boolean }> {
    const reply = await this.call({ type: 'media', id: 0, sdkfileid, index });
    if (reply.type !== 'chunk') throw new Error(`unexpected reply ${reply.type} to media`);
    const toBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    return { data: toBuffer(reply.data), outIndex: toBuffer(reply.outIndex), finished: reply.finished };
  }

  /** Ends the child: disconnect lets it DestroySdk and exit; KILL if it does not within 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
    await gone;
    clearTimeout(timer);
  }

  /** For tests and operators: kill the child as a crash would. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  private call(request: ParentRequest): Promise<ChildReply> {
    if (!this.child || this.exited) return Promise.reject(this.exited ?? new Error('SDK child not started'));
    const id = this.nextId++;
    const child = this.child;
    return new Promise<ChildReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // a library that hangs past its own timeout is as good as crashed
        child.kill('SIGKILL');
        reject(new Error(`SDK call ${request.type} timed out after ${this.options.callTimeoutMs} ms`));
      }, this.options.callTimeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          if (reply.type === 'error') reject(new SdkError(reply.error, reply.rc));
          else resolve(reply);
        },
        reject,
        timer,
      });
      child.send({ ...request, id }, (err) => {
        if (!err || !this.pending.has(id)) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(this.exited ?? new ChildGoneError(null, null));
      });
    });
  }

  private onReply(reply: ChildReply): void {
    if (!('id' in reply)) return;
    const call = this.pending.get(reply.id);
    if (!call) return;
    this.pending.delete(reply.id);
    clearTimeout(call.timer);
    call.resolve(reply);
  }
}
