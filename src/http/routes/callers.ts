import type { FastifyRequest } from 'fastify';
import type { PartnerCredentials } from '../../ports/identity-provider.js';
import type { Caller } from '../../core/operations.js';
import { noteCaller } from '../audit-hooks.js';
import type { HttpServices } from '../services.js';

/**
 * Authentication of both paths, shared by every authenticated route. Managed: log in to the identity
 * pool with the username/password headers, then check the partner credentials for that user; Direct:
 * bearer token plus partner credentials. What is learnt is noted for the audit record as it is learnt.
 * A route with `config.authenticate` has done this before its body was read (src/http/authentication.ts).
 */

export async function managedCaller(request: FastifyRequest, services: HttpServices): Promise<Caller> {
  if (request.caller) return request.caller;
  const h = request.headers as Record<string, string>;
  const login = await services.auth.login(h.username as string, h.password as string, { clientAddress: request.ip });
  noteCaller(request, { orgId: login.orgId, userId: login.userId });
  const caller = await services.auth.managedCaller(login, partnerHeaders(request));
  noteCaller(request, { credentialId: caller.credentialId });
  return caller;
}

export async function directCaller(request: FastifyRequest, services: HttpServices): Promise<Caller> {
  if (request.caller) return request.caller;
  const token = (request.headers.authorization as string).slice('Bearer '.length);
  const caller = await services.auth.caller(token, partnerHeaders(request));
  noteCaller(request, { orgId: caller.orgId, userId: caller.userId, credentialId: caller.credentialId });
  return caller;
}

export function partnerHeaders(request: FastifyRequest): PartnerCredentials {
  const h = request.headers as Record<string, string>;
  return { apiKey: h.api_key as string, accessKey: h.access_key as string, secretKey: h.secret_key as string };
}
