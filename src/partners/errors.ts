import { DomainError } from '../identity/errors.js';

export { ValidationError } from '../identity/errors.js';

/** Unknown api_key, wrong access_key, wrong secret_key and revoked credentials all give this one error. */
export class PartnerAuthError extends DomainError<'PARTNER_CREDENTIALS_INVALID'> {
  readonly code = 'PARTNER_CREDENTIALS_INVALID';
  constructor() {
    super('the partner credentials are not valid');
    this.name = 'PartnerAuthError';
  }
}

export class CredentialsNotFoundError extends DomainError<'CREDENTIALS_NOT_FOUND'> {
  readonly code = 'CREDENTIALS_NOT_FOUND';
  constructor(readonly credentialId: string) {
    super(`no credentials with id ${credentialId}`);
    this.name = 'CredentialsNotFoundError';
  }
}

export class OrganisationNotFoundError extends DomainError<'ORGANISATION_NOT_FOUND'> {
  readonly code = 'ORGANISATION_NOT_FOUND';
  constructor(readonly orgId: string) {
    super(`no organisation with id ${orgId}`);
    this.name = 'OrganisationNotFoundError';
  }
}
