import { DomainError } from '../common/domain-error.js';
import { ERROR_CATALOGUE } from '@pqseal/sdk/catalogue';

/**
 * Typed errors of the identity pool. Each has a stable `code` of packages/sdk/src/catalogue.ts (which gives
 * its HTTP status) and a message safe to show to the client: no secrets, and no hint whether a
 * username exists.
 */

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

export const NOT_AUTHORIZED_MESSAGE = ERROR_CATALOGUE.NOT_AUTHORIZED.message;

/**
 * The existing user a refused login was for, so the audit record lands in that organisation's
 * chain. Never part of the message or the wire form: the client cannot tell whether it was set.
 */
export interface LoginSubject {
  readonly userId: string;
  readonly orgId: string;
}

/** Unknown user, wrong password and disabled user all give this one error. */
export class NotAuthorizedError extends DomainError<'NOT_AUTHORIZED'> {
  readonly code = 'NOT_AUTHORIZED';
  constructor(readonly subject?: LoginSubject) {
    super(NOT_AUTHORIZED_MESSAGE);
    this.name = 'NotAuthorizedError';
  }
}

export class LoginThrottledError extends DomainError<'LOGIN_THROTTLED'> {
  readonly code = 'LOGIN_THROTTLED';
  constructor(
    readonly retryAfterSeconds: number,
    readonly subject?: LoginSubject,
  ) {
    super(`too many failed login attempts; try again in ${retryAfterSeconds} s`);
    this.name = 'LoginThrottledError';
  }
}

/** The client address has used its login budget (checked before any password is hashed). */
export class LoginRateLimitedError extends DomainError<'LOGIN_RATE_LIMITED'> {
  readonly code = 'LOGIN_RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many login attempts from this address; try again in ${retryAfterSeconds} s`);
    this.name = 'LoginRateLimitedError';
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
