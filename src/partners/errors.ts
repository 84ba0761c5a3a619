import { DomainError } from '../common/domain-error.js';

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

/** The display name breaks the rules of src/partners/organisation-names.ts. */
export class OrganisationNameInvalidError extends DomainError<'ORG_NAME_INVALID'> {
  readonly code = 'ORG_NAME_INVALID';
  readonly field = 'name';
  constructor(message: string) {
    super(message);
    this.name = 'OrganisationNameInvalidError';
  }
}

/** Another organisation has the same name up to NFKC, case folding and white space. */
export class OrganisationNameTakenError extends DomainError<'ORG_NAME_TAKEN'> {
  readonly code = 'ORG_NAME_TAKEN';
  constructor(readonly existingOrgId: string) {
    super(`an organisation with the same name (ignoring case, width and spacing) already exists: ${existingOrgId}`);
    this.name = 'OrganisationNameTakenError';
  }
}
