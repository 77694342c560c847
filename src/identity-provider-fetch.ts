/**
 * Outbound HTTPS to identity providers (Google, a team's OIDC IdP): Node's roots plus the
 * operator's SSO_CA_FILE, as openid-client's `customFetch`. Production code has no switch that
 * allows plain HTTP or unchecked certificates: a private IdP (and the tests' own) is trusted by
 * adding its CA, the way any HTTPS client is told to trust it.
 */
import { rootCertificates } from 'node:tls'
import { Agent, fetch as undiciFetch } from 'undici'
import type { AppContext } from './context.ts'

/** An IdP that does not answer in this time fails the sign-in (google_unavailable), not the server. */
const IDP_TIMEOUT_MS = 10_000

export type IdentityProviderFetch = (url: string, options: RequestInit) => Promise<Response>

const fetchers = new WeakMap<AppContext, IdentityProviderFetch>()

export function identityProviderFetch(ctx: AppContext): IdentityProviderFetch {
  let fetcher = fetchers.get(ctx)
  if (!fetcher) {
    const agent = new Agent({
      connect: { ...(ctx.config.ssoCaPem ? { ca: [...rootCertificates, ctx.config.ssoCaPem] } : {}), timeout: IDP_TIMEOUT_MS },
      headersTimeout: IDP_TIMEOUT_MS,
      bodyTimeout: IDP_TIMEOUT_MS,
    })
    // undici's own fetch with its own Agent: Node's global fetch takes no dispatcher from
    // another copy of undici. oauth4webapi accepts its Response (it checks the shape, not the class).
    fetcher = async (url, options) => (await undiciFetch(url, { ...(options as object), dispatcher: agent })) as unknown as Response
    fetchers.set(ctx, fetcher)
  }
  return fetcher
}
