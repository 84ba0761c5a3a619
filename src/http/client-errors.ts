import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { errorSpec, type ErrorCode } from '@pqseal/sdk/catalogue';

/**
 * Per socket, the request that was answered while its body was still arriving (refused before it was
 * read, and now drained). Once that answer finished, Node no longer links it to the socket, so a
 * request timeout striking during the drain would otherwise get a second, unsolicited answer.
 */
const answeredWhileReceiving = new WeakMap<Socket, IncomingMessage>();

/** Call on the root instance before other onResponse hooks, so no await comes between answer and mark. */
export function trackAnswersBeforeBody(app: FastifyInstance): void {
  app.addHook('onResponse', async (request) => {
    const raw = request.raw;
    if (!raw.complete && raw.socket) answeredWhileReceiving.set(raw.socket, raw);
  });
}

/**
 * Answers what Node's HTTP parser refuses before a request exists (headers too large, malformed
 * request, headers or whole request too slow) in the API's error shape, with `Connection: close`,
 * and ends the socket once the answer is written. Fastify's default handler destroys the socket right
 * after writing an answer without `Connection: close`: a keep-alive client could take the connection
 * for reusable and get ECONNRESET on its next request.
 */
export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  const answered = answeredWhileReceiving.get(socket);
  if (!socket.writable || inFlight?.headersSent || (answered !== undefined && !answered.complete)) {
    socket.destroy();
    return;
  }
  const { status, reason, code, message } = describe(error.code);
  // debug, not info: anyone can send garbage, and must not be able to flood the log with it.
  this.log.debug({ code, status, parserCode: error.code }, 'client error');
  const body = JSON.stringify({ code, message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n${body}`,
  );
  // end() sends FIN after the answer; a client that never closes its side is not waited for.
  socket.setTimeout(5_000, () => socket.destroy());
}

function describe(parserCode: string | undefined): { status: number; reason: string; code: ErrorCode; message: string } {
  switch (parserCode) {
    case 'HPE_HEADER_OVERFLOW':
      return answer('HEADERS_TOO_LARGE', 'Request Header Fields Too Large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return answer('REQUEST_TIMEOUT', 'Request Timeout', 'the request did not arrive in time');
    default:
      return answer('BAD_REQUEST', 'Bad Request');
  }
}

function answer(code: ErrorCode, reason: string, message = errorSpec(code).message): { status: number; reason: string; code: ErrorCode; message: string } {
  return { status: errorSpec(code).status, reason, code, message };
}
