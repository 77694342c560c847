/**
 * The security audit log (SPEC §11): every sign-in, failure, password and email change,
 * session revocation and deactivation, with time, IP and user agent.
 */
import { newId } from '../crypto.ts'
import type { Queryable } from '../db/schema.ts'

export type AuditEventType =
  | 'account.created'
  | 'account.email_confirmed'
  | 'account.username_changed'
  | 'account.email_change_requested'
  | 'account.email_change_cancelled'
  | 'account.email_changed'
  | 'account.password_changed'
  | 'account.password_reset'
  | 'account.recovery_requested'
  | 'account.deactivated'
  | 'account.reactivated'
  | 'account.deleted'
  | 'account.signin_locked'
  | 'signin.succeeded'
  | 'signin.failed'
  | 'session.signed_out'
  | 'session.revoked'
  | 'sessions.revoked_all'
  | 'session.reauthenticated'
  | 'signin.disavowed'
  | 'two_factor.enabled'
  | 'two_factor.disabled'
  | 'two_factor.recovery_codes_regenerated'
  | 'two_factor.reset_by_operator'
  | 'two_factor.failed'
  | 'passkey.added'
  | 'passkey.renamed'
  | 'passkey.removed'
  | 'sso.identity_linked'
  | 'sso.connection_changed'
  | 'team.created'
  | 'team.joined'
  | 'team.left'
  | 'team.removed'
  | 'oauth.app_session_ended'
  | 'oauth.app_revoked'
  | 'account.password_set'
  | 'account.email_released'
  | 'identity.linked'
  | 'identity.unlinked'
  | 'team.signin_policy_changed'
  | 'team.sso_setup_link_created'
  | 'team.sso_setup_link_revoked'
  | 'signin.refused_by_team'

/** Who did it and from where; `operator` for the CLI. */
export interface RequestMeta {
  ip: string
  userAgent: string
}

export const OPERATOR: RequestMeta = { ip: 'cli', userAgent: 'latchkey-cli' }

export type AuditEvent = { accountId: string | null; type: AuditEventType; meta: RequestMeta; at: number; details?: Record<string, unknown> }

export async function recordAudit(db: Queryable, event: AuditEvent): Promise<void> {
  await db.insertInto('audit_events').values(auditRow(event)).execute()
}

/** The row an event is stored as (the sign-in fast path writes it inside a larger statement). */
/** A deleted account's personal trail goes with it (the deletion record is written after). */
export async function eraseAccountAudit(db: Queryable, accountId: string): Promise<void> {
  await db.deleteFrom('audit_events').where('account_id', '=', accountId).execute()
}

export function auditRow(event: AuditEvent) {
  return {
    id: newId(),
    account_id: event.accountId,
    type: event.type,
    ip: event.meta.ip,
    user_agent: event.meta.userAgent.slice(0, 512),
    details: JSON.stringify(event.details ?? {}),
    at: event.at,
  }
}
