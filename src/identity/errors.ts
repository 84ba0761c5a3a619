/**
 * Typed errors of the identity pool. Each has a stable `code` (the HTTP layer maps codes to
 * statuses) and a message safe to show to the client: no secrets, and no hint whether a username
 * exists.
 */

export abstract class DomainError<C extends string = string> extends Error {
  abstract readonly code: C;

  toJSON(): { code: C; message: string } {
    return { code: this.code, message: this.message };
  }
}

export class ValidationError extends DomainError<'VALIDATION_ERROR'> {
  readonly code = 'VALIDATION_ERROR';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

export const NOT_AUTHORIZED_MESSAGE = 'Username and/or Password Incorrect';

/** Unknown user, wrong password and disabled user all give this one error. */
export class NotAuthorizedError extends DomainError<'NOT_AUTHORIZED'> {
  readonly code = 'NOT_AUTHORIZED';
  constructor() {
    super(NOT_AUTHORIZED_MESSAGE);
    this.name = 'NotAuthorizedError';
  }
}

export class LoginThrottledError extends DomainError<'LOGIN_THROTTLED'> {
  readonly code = 'LOGIN_THROTTLED';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed login attempts; try again in ${retryAfterSeconds} s`);
    this.name = 'LoginThrottledError';
  }
}

export type TokenErrorCode = 'TOKEN_INVALID' | 'TOKEN_EXPIRED';

/** A JWT or refresh token that is malformed, forged, expired, revoked, or whose user is disabled. */
export class TokenError extends DomainError<TokenErrorCode> {
  constructor(
    readonly code: TokenErrorCode,
    message: string = code === 'TOKEN_EXPIRED' ? 'the token has expired' : 'the token is not valid',
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export class UserNotFoundError extends DomainError<'USER_NOT_FOUND'> {
  readonly code = 'USER_NOT_FOUND';
  constructor(readonly userId: string) {
    super(`no user with id ${userId}`);
    this.name = 'UserNotFoundError';
  }
}

export class UsernameExistsError extends DomainError<'USERNAME_EXISTS'> {
  readonly code = 'USERNAME_EXISTS';
  constructor(readonly username: string) {
    super(`the username "${username}" is already taken`);
    this.name = 'UsernameExistsError';
  }
}
