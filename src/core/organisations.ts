import { randomBytes } from 'node:crypto';

/** What `pqseal org create --json` prints and the first start shows for the demo organisation. */
export interface NewOrganisation {
  readonly org_id: string;
  readonly name: string;
  readonly username: string;
  readonly password: string;
  readonly api_key: string;
  readonly access_key: string;
  readonly secret_key: string;
}

/** A username derived from the display name, with a random suffix so it is unique. */
export function usernameFor(name: string): string {
  const slug =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'org';
  return `${slug}-${randomBytes(3).toString('hex')}`;
}

/** 24 random bytes, base64url: 192 bits, comfortably above the pool's minimum length. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}
