import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the client commands get the server URL and the five credentials from, field by field:
 * command-line `--url`, then the environment (PQSEAL_URL, PQSEAL_USERNAME, PQSEAL_PASSWORD,
 * PQSEAL_API_KEY, PQSEAL_ACCESS_KEY, PQSEAL_SECRET_KEY), then a profile file — `--profile <path>`,
 * else $PQSEAL_PROFILE, else ~/.config/pqseal/profile.json ($XDG_CONFIG_HOME respected) when it exists.
 *
 * A profile is JSON with `url` and the credentials in the spelling `pqseal org create --json`
 * prints (`username`, `password`, `api_key`, `access_key`, `secret_key`), so that output plus a
 * `url` is a valid profile. It holds secrets, so one readable by group or others is refused.
 */

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface ClientSettings {
  readonly url: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly apiKey: string | undefined;
  readonly accessKey: string | undefined;
  readonly secretKey: string | undefined;
  /** The profile file read, if any. */
  readonly profile: string | undefined;
}

export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

export function defaultProfilePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'pqseal', 'profile.json');
}

type Profile = Record<string, unknown>;

/** Reads a profile, refusing one whose mode lets group or others read or write it. */
export function readProfile(path: string): Profile {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    throw new ProfileError(`cannot read the profile ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new ProfileError(
      `refusing to use the profile ${path}: it holds credentials but is accessible by group or others (mode ${octal}); run: chmod 600 ${path}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ProfileError(`the profile ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ProfileError(`the profile ${path} must be a JSON object`);
  return parsed as Profile;
}

export function resolveSettings(flags: { url?: string | undefined; profile?: string | undefined }, env: NodeJS.ProcessEnv = process.env): ClientSettings {
  let profilePath = flags.profile ?? (env.PQSEAL_PROFILE || undefined);
  let profile: Profile = {};
  if (profilePath !== undefined) profile = readProfile(profilePath);
  else {
    const fallback = defaultProfilePath(env);
    let exists: boolean;
    try {
      exists = statSync(fallback).isFile();
    } catch {
      exists = false;
    }
    if (exists) {
      profilePath = fallback;
      profile = readProfile(fallback);
    }
  }
  const pick = (envName: string, ...keys: string[]): string | undefined => {
    const fromEnv = env[envName];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    for (const k of keys) if (typeof profile[k] === 'string' && profile[k] !== '') return profile[k];
    return undefined;
  };
  return {
    url: flags.url ?? pick('PQSEAL_URL', 'url', 'base_url', 'baseUrl') ?? DEFAULT_URL,
    username: pick('PQSEAL_USERNAME', 'username'),
    password: pick('PQSEAL_PASSWORD', 'password'),
    apiKey: pick('PQSEAL_API_KEY', 'api_key', 'apiKey'),
    accessKey: pick('PQSEAL_ACCESS_KEY', 'access_key', 'accessKey'),
    secretKey: pick('PQSEAL_SECRET_KEY', 'secret_key', 'secretKey'),
    profile: profilePath,
  };
}

/** Names of the settings still missing, as the environment variable a user would set. */
export function missingCredentials(s: ClientSettings): string[] {
  const missing: string[] = [];
  if (!s.username) missing.push('PQSEAL_USERNAME');
  if (!s.password) missing.push('PQSEAL_PASSWORD');
  if (!s.apiKey) missing.push('PQSEAL_API_KEY');
  if (!s.accessKey) missing.push('PQSEAL_ACCESS_KEY');
  if (!s.secretKey) missing.push('PQSEAL_SECRET_KEY');
  return missing;
}
