import type { FastifyReply } from 'fastify';
import type { JsonResult } from '../core/crypto-tasks.js';
import type { JsonRoom } from '../core/results.js';

/**
 * How an operation's result goes on the wire. The Managed API wraps it as {statusCode, body}; the
 * Direct API sends it as is. The crypto worker writes the result's JSON with free room around it
 * (the `room` of the frame), and the frame is written into that room: the payload-sized bytes are
 * neither built nor copied on the event loop (docs/performance.md).
 */

export interface JsonFrame {
  readonly prefix: string;
  readonly suffix: string;
  /** What to ask the worker to leave free around the result (the frame's bytes; both parts are ASCII). */
  readonly room: JsonRoom;
}

function frame(prefix: string, suffix: string): JsonFrame {
  return { prefix, suffix, room: { before: Buffer.byteLength(prefix), after: Buffer.byteLength(suffix) } };
}

export const MANAGED_FRAME: JsonFrame = frame('{"statusCode":200,"body":', '}');
export const DIRECT_FRAME: JsonFrame = frame('', '');

/** The response body: `frame` written around `json` in place when the room is there, else a copy. */
export function framedBody(json: Uint8Array, { prefix, suffix, room }: JsonFrame): Buffer {
  const start = json.byteOffset - room.before;
  const end = json.byteOffset + json.byteLength + room.after;
  if (start < 0 || end > json.buffer.byteLength) return Buffer.concat([Buffer.from(prefix), json, Buffer.from(suffix)]);
  const body = Buffer.from(json.buffer, start, end - start);
  body.write(prefix, 0, 'latin1');
  body.write(suffix, body.length - room.after, 'latin1');
  return body;
}

/**
 * Sends a result as a 200 JSON answer: the same bytes the response schema's serializer would write.
 * The route schemas still describe them (and the OpenAPI test validates real answers).
 */
export function sendResult(reply: FastifyReply, result: JsonResult, frame: JsonFrame): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(framedBody(result.json, frame));
}
