/**
 * Log paths that never reach a log line in clear: the five managed credential headers, the bearer
 * token, and every payload field, wherever a serializer or a handler might put them.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.username',
  'req.headers.password',
  'req.headers.api_key',
  'req.headers.access_key',
  'req.headers.secret_key',
  'headers.authorization',
  'headers.password',
  'headers.secret_key',
  'body.data',
  'body.encrypted_data',
  'body.decrypted_data',
  'data',
  'encrypted_data',
  'decrypted_data',
  'password',
  'secret_key',
  'secretKey',
  'token',
  'idToken',
  'refreshToken',
] as const;
