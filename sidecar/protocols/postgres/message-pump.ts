// Await complete messages from a socket during the short, sequential phases of a connection (startup, login).
// The query phase does not use this: it is driven by 'data' events for speed.
import type { Socket } from 'node:net';
import { NO_MESSAGE, type MessageReader } from './codec/index.ts';

export class MessagePump {
  readonly #socket: Socket;
  readonly #reader: MessageReader;
  #waiter: (() => void) | undefined;
  #ended: Error | undefined;
  readonly #onData = (chunk: Buffer) => {
    this.#reader.push(chunk);
    this.#wake();
  };
  readonly #onEnd = () => {
    this.#ended ??= new Error('connection closed');
    this.#wake();
  };
  readonly #onError = (e: Error) => {
    this.#ended ??= e;
    this.#wake();
  };

  constructor(socket: Socket, reader: MessageReader) {
    this.#socket = socket;
    this.#reader = reader;
    socket.on('data', this.#onData).on('end', this.#onEnd).on('close', this.#onEnd).on('error', this.#onError);
  }

  /** Resolves with the next message's type (reader fields point at it); rejects on close, error or timeout. */
  async next(timeoutMs: number): Promise<number> {
    for (;;) {
      const t = this.#reader.next();
      if (t !== NO_MESSAGE) return t;
      if (this.#ended) throw this.#ended;
      await this.#wait(timeoutMs);
    }
  }

  /** One raw byte (the answer to SSLRequest). */
  async rawByte(timeoutMs: number): Promise<number> {
    for (;;) {
      const b = this.#reader.readRawByte();
      if (b >= 0) return b;
      if (this.#ended) throw this.#ended;
      await this.#wait(timeoutMs);
    }
  }

  #wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = () => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve();
      };
    });
  }

  #wake(): void {
    this.#waiter?.();
  }

  /** Stops listening; what is still buffered stays in the reader for the next owner of the socket. */
  detach(): void {
    this.#socket.off('data', this.#onData).off('end', this.#onEnd).off('close', this.#onEnd).off('error', this.#onError);
  }
}
