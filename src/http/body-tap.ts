import { Transform, type Readable, type TransformCallback } from 'node:stream';

/**
 * A pass-through for a request body (a Fastify preParsing stream) that sees every chunk as it arrives.
 * `onChunk` may refuse a chunk by returning an error; `fail` aborts from outside (a timer). Either
 * way the body stops being read, so the caller must close the connection after answering: the rest
 * of the body is still on the wire.
 */
export class BodyTap extends Transform {
  constructor(
    private readonly source: Readable,
    private readonly onChunk: (bytes: number) => Error | undefined,
  ) {
    super();
    // The error is for the body reader; when the request was answered before its body was read,
    // nobody listens and there is nothing left to tell.
    this.on('error', () => undefined);
    source.on('error', (error) => this.destroy(error));
    source.pipe(this);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const refusal = this.onChunk(chunk.length);
    if (refusal) {
      this.fail(refusal);
      callback();
      return;
    }
    callback(null, chunk);
  }

  fail(error: Error): void {
    if (this.destroyed) return;
    this.source.unpipe(this);
    this.destroy(error);
  }
}
