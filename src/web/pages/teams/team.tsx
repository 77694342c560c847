import { useEffect, useId, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useNavigate, useParams } from 'react-router'
import { api } from '../../api.ts'
import { useSession } from '../../components/session.tsx'
import { Button, Notice, useAction } from '../../components/ui.tsx'
import { can, emailsIn, TEAM_ROLES, type Invitation, type Member, type TeamPage as TeamView, type TeamRole } from './model.ts'
import { formatDate } from '../../dates.ts'
import { focusOnMount, RolePills, TeamError } from './widgets.tsx'
import { Section, TeamHeader, TeamMissing, useTeam } from './frame.tsx'
import { InviteLinksSection } from './links.tsx'
import { JoinRequestsSection } from './discovery.tsx'
import type { CsvProblem as ServerCsvProblem } from '../../../teams/invitations/schemas.ts'
import { MAX_INVITATIONS_PER_REQUEST, MAX_SEATS } from '../../../teams/limits.ts'
import type { Invitations, LeaveResult } from '../../../teams/schemas.ts'
import './teams.css'

export function TeamPage() {
  const { t } = useTranslation()
  const { slug = '' } = useParams()
  const { data, error, load } = useTeam(slug)
  useEffect(() => {
    document.title = `${data?.name ?? t('teams.list.title')} · Latchkey`
  }, [data?.name, t])
  if (error && !data) return <TeamMissing error={error} />
  if (!data) return <p role="status" className="page">{t('teams.team.loading')}</p>
  return (
    <div className="page teams">
      <TeamHeader data={data} current="team" />
      <MembersSection data={data} reload={load} />
      <SeatsSection data={data} reload={load} />
      {can(data.myRoles, 'invite_developers') ? <InviteSection data={data} reload={load} /> : null}
      <InvitationsSection data={data} reload={load} />
      <SuggestionsSection data={data} reload={load} />
      {can(data.myRoles, 'manage_members') ? <JoinRequestsSection data={data} reload={load} /> : null}
      {can(data.myRoles, 'invite_developers') ? <InviteLinksSection data={data} reload={load} /> : null}
      <LeaveSection data={data} />
    </div>
  )
}

interface SectionProps { data: TeamView; reload: () => Promise<void> }

/** The member's avatar, or their initial; decorative beside their name. */
function MemberAvatar({ member }: { member: Member }) {
  if (member.avatarUrl) return <img className="member-avatar" src={member.avatarUrl} alt="" width={36} height={36} />
  return <span className="member-avatar member-avatar-initial" aria-hidden="true">{[...displayName(member)][0]?.toUpperCase() ?? '?'}</span>
}

function displayName(m: Pick<Member, 'displayName' | 'username'>): string {
  return m.displayName || m.username
}

function MembersSection({ data, reload }: SectionProps) {
  const { t, i18n } = useTranslation()
  const { me } = useSession()
  const [editing, setEditing] = useState<string | null>(null)
  const [removing, setRemoving] = useState<Member | null>(null)
  const [done, setDone] = useState<string | null>(null)
  const remove = useAction(async (member: Member) => {
    await api('DELETE', `/teams/${data.slug}/members/${member.accountId}`)
    await reload()
    setRemoving(null)
    setDone(t('teams.members.removed', { name: displayName(member) }))
  })
  const admins = data.members.filter((m) => m.roles.includes('admin')).length
  return (
    <Section title={t('teams.members.title')}>
      {done ? <Notice tone="success">{done}</Notice> : null}
      <ul className="list members">
        {data.members.map((m) => {
          const name = displayName(m)
          const isMe = m.accountId === me?.id
          return (
            <li key={m.accountId} className="member" data-username={m.username}>
              <div className="member-main">
                <MemberAvatar member={m} />
                <div className="grow">
                  <strong>{name}</strong> <span className="hint">@{m.username}{isMe ? ` (${t('teams.members.you')})` : ''}</span>
                  <div><RolePills roles={m.roles} />{m.supportMember ? <span className="hint"> · {t('teams.members.support')}</span> : null}</div>
                  <span className="hint">{t('teams.members.joined', { date: formatDate(m.joinedAt, i18n.language) })}</span>
                </div>
                <div className="actions">
                  {can(data.myRoles, 'assign_billing_role') ? (
                    <Button variant="secondary" aria-expanded={editing === m.accountId} aria-label={t('teams.members.editRolesOf', { name })} onClick={() => { setDone(null); setEditing(editing === m.accountId ? null : m.accountId) }}>
                      {t('teams.members.editRoles')}
                    </Button>
                  ) : null}
                  {can(data.myRoles, 'manage_members') && !isMe ? (
                    <Button variant="danger" aria-label={t('teams.members.removeOf', { name })} onClick={() => { setDone(null); remove.setError(null); setRemoving(m) }}>{t('teams.members.remove')}</Button>
                  ) : null}
                </div>
              </div>
              {editing === m.accountId ? (
                <RoleEditor
                  data={data} member={m} onlyAdmin={admins === 1 && m.roles.includes('admin')}
                  onDone={async () => { setEditing(null); setDone(t('teams.members.rolesSaved')); await reload() }}
                  onCancel={() => setEditing(null)}
                />
              ) : null}
              {removing?.accountId === m.accountId ? (
                <div className="confirm" role="group" aria-label={t('teams.members.removeOf', { name })} tabIndex={-1} ref={focusOnMount}>
                  <p>{t('teams.members.removeConfirm', { name })}</p>
                  <TeamError error={remove.error} />
                  <Button variant="danger" busy={remove.busy} onClick={() => void remove.run(m)}>{t('teams.members.removeYes')}</Button>{' '}
                  <Button variant="secondary" onClick={() => setRemoving(null)}>{t('app.cancel')}</Button>
                </div>
              ) : null}
            </li>
          )
        })}
      </ul>
    </Section>
  )
}

/**
 * Several roles per member, at least one. An Admin changes any role; a Billing member only the
 * Billing role (the other boxes are disabled); the only Admin's Admin box stays ticked.
 */
function RoleEditor({ data, member, onlyAdmin, onDone, onCancel }: { data: TeamView; member: Member; onlyAdmin: boolean; onDone: () => Promise<void>; onCancel: () => void }) {
  const { t } = useTranslation()
  const [roles, setRoles] = useState<TeamRole[]>(member.roles)
  const [touched, setTouched] = useState(false)
  const legendId = useId()
  const save = useAction(async () => {
    await api('PUT', `/teams/${data.slug}/members/${member.accountId}/roles`, { roles })
    await onDone()
  })
  const admin = can(data.myRoles, 'manage_members')
  const empty = roles.length === 0
  return (
    <form className="role-editor" ref={(form) => { if (form && !form.dataset.focused) { form.dataset.focused = '1'; form.querySelector<HTMLInputElement>('input:not([disabled])')?.focus() } }} onSubmit={(e) => { e.preventDefault(); setTouched(true); if (!empty) void save.run() }} noValidate>
      <fieldset aria-describedby={`${legendId}-notes`}>
        <legend id={legendId}>{t('teams.members.rolesOf', { name: displayName(member) })}</legend>
        {TEAM_ROLES.map((role) => {
          const locked = (!admin && role !== 'billing') || (role === 'admin' && onlyAdmin && roles.includes('admin'))
          return (
            <div className="checkbox role-choice" key={role}>
              <input
                id={`${legendId}-${role}`} type="checkbox" name={`role-${role}`} checked={roles.includes(role)} disabled={locked} aria-describedby={`${legendId}-${role}-hint`}
                onChange={(e) => setRoles(e.target.checked ? TEAM_ROLES.filter((r) => r === role || roles.includes(r)) : roles.filter((r) => r !== role))}
              />
              <div>
                <label htmlFor={`${legendId}-${role}`}>{t(`teams.roles.${role}`)}</label>
                <p className="hint" id={`${legendId}-${role}-hint`}>{t(`teams.roleHints.${role}`)}</p>
              </div>
            </div>
          )
        })}
        <div id={`${legendId}-notes`}>
          {onlyAdmin ? <p className="hint">{t('teams.members.lastAdmin')}</p> : null}
          {!admin ? <p className="hint">{t('teams.members.billingOnly')}</p> : null}
          {empty && touched ? <p className="field-error">{t('teams.members.atLeastOne')}</p> : null}
        </div>
      </fieldset>
      <TeamError error={save.error} />
      <Button type="submit" busy={save.busy}>{t('teams.members.saveRoles')}</Button>{' '}
      <Button type="button" variant="secondary" onClick={onCancel}>{t('app.cancel')}</Button>
    </form>
  )
}

function SeatsSection({ data, reload }: SectionProps) {
  const { t } = useTranslation()
  const [seats, setSeats] = useState(String(data.seats.bought))
  const [saved, setSaved] = useState(false)
  const inputId = useId()
  const save = useAction(async () => {
    await api('PUT', `/teams/${data.slug}/seats`, { seats: Number(seats) })
    setSaved(true)
    await reload()
  })
  const s = data.seats
  const used = s.takenByMembers + s.heldByInvitations
  return (
    <Section title={t('teams.seats.title')} className="seats">
      <p><strong>{t('teams.seats.summary', { used, bought: s.bought })}</strong></p>
      <meter min={0} max={Math.max(s.bought, used)} value={used} aria-label={t('teams.seats.summary', { used, bought: s.bought })} />
      <ul className="plain">
        <li>{t('teams.seats.members', { count: s.takenByMembers })}</li>
        <li>{t('teams.seats.held', { count: s.heldByInvitations })}</li>
        <li>{t('teams.seats.available', { count: s.available })}</li>
        <li>{t('teams.seats.support', { count: s.supportMembers, free: s.freeSupportMembers })}</li>
      </ul>
      {can(data.myRoles, 'change_seats') ? (
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); setSaved(false); void save.run() }} noValidate>
          <div className="field">
            <label htmlFor={inputId}>{t('teams.seats.set')}</label>
            <input id={inputId} name="seats" type="number" min={1} max={MAX_SEATS} inputMode="numeric" value={seats} onChange={(e) => setSeats(e.target.value)} aria-describedby={`${inputId}-hint`} aria-invalid={save.error?.body.fields?.seats ? true : undefined} />
            <p className="hint" id={`${inputId}-hint`}>{t('teams.seats.hint')}</p>
          </div>
          <TeamError error={save.error} />
          {saved ? <Notice tone="success">{t('teams.seats.saved')}</Notice> : null}
          <Button type="submit" busy={save.busy}>{t('teams.seats.save')}</Button>
        </form>
      ) : s.available <= 0 ? <p className="hint">{t('teams.seats.whoAdds')}</p> : null}
    </Section>
  )
}

/** Invite by email: one or many addresses, typed or read from a CSV file, with chosen roles. */
function InviteSection({ data, reload }: SectionProps) {
  const { t } = useTranslation()
  const [text, setText] = useState('')
  const [roles, setRoles] = useState<TeamRole[]>(['developer'])
  const [result, setResult] = useState<{ sent: number; suggested: number } | null>(null)
  const [localError, setLocalError] = useState<string | null>(null)
  const id = useId()
  const admin = can(data.myRoles, 'invite_any_role')
  const suggestion = !admin && !(roles.length === 1 && roles[0] === 'developer')
  const emails = emailsIn(text)
  const send = useAction(async () => {
    const res = await api<Invitations>('POST', `/teams/${data.slug}/invitations`, { emails, roles })
    setResult({ sent: res.invitations.length, suggested: res.suggestions.length })
    setText('')
    await reload()
  })
  // Which address each field error points at: `emails.3` is the fourth address sent.
  const problems = Object.entries(send.error?.body.fields ?? {})
    .filter(([field]) => field.startsWith('emails.'))
    .map(([field, reason]) => ({ email: emails[Number(field.slice(7))] ?? field, reason: ['already_member', 'already_invited', 'invalid'].includes(reason) ? reason : 'invalid' }))
  return (
    <Section title={t('teams.invite.title')} className="invite">
      <form
        onSubmit={(e) => {
          e.preventDefault()
          setResult(null)
          setLocalError(emails.length === 0 ? t('teams.invite.noEmails') : emails.length > MAX_INVITATIONS_PER_REQUEST ? t('teams.invite.tooMany', { max: MAX_INVITATIONS_PER_REQUEST }) : roles.length === 0 ? t('teams.members.atLeastOne') : null)
          if (emails.length && emails.length <= MAX_INVITATIONS_PER_REQUEST && roles.length) void send.run()
        }}
        noValidate
      >
        <div className="field">
          <label htmlFor={`${id}-emails`}>{t('teams.invite.emails')}</label>
          <textarea id={`${id}-emails`} name="inviteEmails" rows={3} value={text} onChange={(e) => setText(e.target.value)} aria-describedby={`${id}-emails-hint`} aria-invalid={problems.length ? true : undefined} />
          <p className="hint" id={`${id}-emails-hint`}>{t('teams.invite.emailsHint')}</p>
        </div>
        <fieldset>
          <legend>{t('teams.invite.roles')}</legend>
          {TEAM_ROLES.map((role) => (
            <div className="checkbox role-choice" key={role}>
              <input id={`${id}-${role}`} type="checkbox" name={`invite-role-${role}`} checked={roles.includes(role)} onChange={(e) => setRoles(e.target.checked ? TEAM_ROLES.filter((r) => r === role || roles.includes(r)) : roles.filter((r) => r !== role))} />
              <label htmlFor={`${id}-${role}`}>{t(`teams.roles.${role}`)}</label>
            </div>
          ))}
          {!admin ? <p className="hint">{t('teams.invite.suggestionHint')}</p> : null}
        </fieldset>
        {localError ? <p className="form-error" role="alert">{localError}</p> : null}
        {problems.length ? (
          <div className="form-error" role="alert">
            <p>{t('teams.invite.problems')}</p>
            <ul>{problems.map((p) => <li key={p.email}>{p.email}: {t(`teams.invite.problem.${p.reason}`)}</li>)}</ul>
          </div>
        ) : <TeamError error={send.error} />}
        {result ? (
          <Notice tone="success">
            {result.sent ? t('teams.invite.sent', { count: result.sent }) : null}{result.sent && result.suggested ? ' ' : null}
            {result.suggested ? t('teams.invite.suggested', { count: result.suggested }) : null}
          </Notice>
        ) : null}
        <Button type="submit" busy={send.busy}>{suggestion ? t('teams.invite.suggest') : t('teams.invite.submit')}</Button>
      </form>
      <CsvInvite slug={data.slug} roles={roles} reload={reload} />
    </Section>
  )
}

/** A row the server named in `csv_invalid`, or one of the `fields` a schema refusal names (no column). */
type CsvProblem = Omit<ServerCsvProblem, 'column'> & { column: ServerCsvProblem['column'] | '' }

/** A CSV file sent as it is: the server reads `email[,roles]` rows and names bad lines; all or nothing. */
function CsvInvite({ slug, roles, reload }: { slug: string; roles: TeamRole[]; reload: () => Promise<void> }) {
  const { t, i18n } = useTranslation()
  const [file, setFile] = useState<{ name: string; text: string } | null>(null)
  const [result, setResult] = useState<{ sent: number; suggested: number } | null>(null)
  const id = useId()
  async function choose(f: File | undefined) {
    send.setError(null)
    setResult(null)
    setFile(f ? { name: f.name, text: await f.text() } : null)
  }
  const send = useAction(async () => {
    const res = await api<Invitations>('POST', `/teams/${slug}/invitations/csv`, { csv: file!.text, ...(roles.length ? { defaultRoles: roles } : {}) })
    setResult({ sent: res.invitations.length, suggested: res.suggestions.length })
    setFile(null)
    await reload()
  })
  const body = send.error?.body as ({ rows?: CsvProblem[] } & Record<string, unknown>) | undefined
  const fieldRows = Object.entries(send.error?.body.fields ?? {}).filter(([f]) => f.startsWith('csv.')).map(([f, code]) => ({ line: Number(f.slice(4)), column: '' as const, code, message: code }))
  const rows: CsvProblem[] = body?.rows ?? (send.error?.code !== 'csv_invalid' ? fieldRows : [])
  // The server's row messages are English and name the address or role; other languages get the code's text.
  const csvProblemText = (r: CsvProblem) => {
    const where = r.line > 0 ? t('teams.csv.line', { line: r.line }) : t('teams.csv.fileLevel')
    const key = `teams.csv.problems.${r.code}`
    const text = t(key)
    if (i18n.language === 'en' && r.column) return r.message
    return `${where}: ${text === key ? r.message : text}`
  }
  const lines = file ? file.text.split(/\r?\n/).filter((l) => l.trim()).length : 0
  return (
    <form className="csv-invite" onSubmit={(e) => { e.preventDefault(); setResult(null); if (file) void send.run() }} noValidate>
      <h3>{t('teams.csv.title')}</h3>
      <div className="field">
        <label htmlFor={`${id}-csv`}>{t('teams.csv.file')}</label>
        <input
          id={`${id}-csv`} type="file" name="inviteCsv" accept=".csv,text/csv,text/plain" aria-describedby={`${id}-csv-hint`}
          onChange={(e) => void choose(e.target.files?.[0])}
        />
        <p className="hint" id={`${id}-csv-hint`}>{file ? t('teams.csv.ready', { file: file.name, count: lines }) : t('teams.csv.hint')}</p>
      </div>
      {rows.length ? (
        <div className="form-error" role="alert" data-code={send.error?.code}>
          <p>{t('teams.csv.rowsTitle')}</p>
          <ul>{rows.map((r, i) => <li key={`${r.line}-${i}`}>{csvProblemText(r)}</li>)}</ul>
        </div>
      ) : <TeamError error={send.error} />}
      {result ? (
        <Notice tone="success">
          {result.sent ? t('teams.invite.sent', { count: result.sent }) : null}{result.sent && result.suggested ? ' ' : null}
          {result.suggested ? t('teams.invite.suggested', { count: result.suggested }) : null}
        </Notice>
      ) : null}
      <Button type="submit" variant="secondary" busy={send.busy} disabled={!file}>{t('teams.csv.submit')}</Button>
    </form>
  )
}

function InvitationsSection({ data, reload }: SectionProps) {
  const { t, i18n } = useTranslation()
  const [done, setDone] = useState<string | null>(null)
  const resend = useAction(async (inv: Invitation) => {
    await api('POST', `/teams/${data.slug}/invitations/${inv.id}/resend`)
    setDone(t('teams.invitations.resent', { email: inv.email }))
    await reload()
  })
  const cancel = useAction(async (inv: Invitation) => {
    await api('DELETE', `/teams/${data.slug}/invitations/${inv.id}`)
    setDone(t('teams.invitations.cancelled', { email: inv.email }))
    await reload()
  })
  const manage = can(data.myRoles, 'manage_invitations')
  return (
    <Section title={t('teams.invitations.title')} className="invitations">
      {done ? <Notice tone="success">{done}</Notice> : null}
      <TeamError error={resend.error ?? cancel.error} />
      {data.invitations.length === 0 ? <p>{t('teams.invitations.none')}</p> : (
        <ul className="list">
          {data.invitations.map((inv) => (
            <li key={inv.id} data-email={inv.email}>
              <div className="grow">
                <strong className="email">{inv.email}</strong>
                <div><RolePills roles={inv.roles} /></div>
                <span className="hint">
                  {inv.invitedBy ? `${t('teams.invitations.invitedBy', { name: inv.invitedBy })} · ` : ''}
                  {inv.sentAt ? t('teams.invitations.sent', { date: formatDate(inv.sentAt, i18n.language) }) : t('teams.invitations.notSent')}
                </span>
              </div>
              {manage ? (
                <div className="actions">
                  <Button variant="secondary" busy={resend.busy} aria-label={t('teams.invitations.resendOf', { email: inv.email })} onClick={() => { setDone(null); void resend.run(inv) }}>{t('teams.invitations.resend')}</Button>
                  <Button variant="danger" busy={cancel.busy} aria-label={t('teams.invitations.cancelOf', { email: inv.email })} onClick={() => { setDone(null); void cancel.run(inv) }}>{t('teams.invitations.cancel')}</Button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Section>
  )
}

function SuggestionsSection({ data, reload }: SectionProps) {
  const { t } = useTranslation()
  const [done, setDone] = useState<string | null>(null)
  const approve = useAction(async (inv: Invitation) => {
    await api('POST', `/teams/${data.slug}/suggestions/${inv.id}/approve`)
    setDone(t('teams.suggestions.approved', { email: inv.email }))
    await reload()
  })
  const decline = useAction(async (inv: Invitation) => {
    await api('POST', `/teams/${data.slug}/suggestions/${inv.id}/decline`)
    setDone(t('teams.suggestions.declined', { email: inv.email }))
    await reload()
  })
  const manage = can(data.myRoles, 'manage_invitations')
  if (data.suggestions.length === 0 && !done) return null
  return (
    <Section title={t('teams.suggestions.title')} className="suggestions">
      {done ? <Notice tone="success">{done}</Notice> : null}
      {!manage ? <p className="hint">{t('teams.suggestions.adminsDecide')}</p> : null}
      <TeamError error={approve.error ?? decline.error} />
      {data.suggestions.length === 0 ? <p>{t('teams.suggestions.none')}</p> : (
        <ul className="list">
          {data.suggestions.map((inv) => (
            <li key={inv.id} data-email={inv.email}>
              <div className="grow">
                <strong className="email">{inv.email}</strong>
                <div><RolePills roles={inv.roles} /></div>
                {inv.invitedBy ? <span className="hint">{t('teams.suggestions.by', { name: inv.invitedBy })}</span> : null}
              </div>
              {manage ? (
                <div className="actions">
                  <Button busy={approve.busy} aria-label={t('teams.suggestions.approveOf', { email: inv.email })} onClick={() => { setDone(null); void approve.run(inv) }}>{t('teams.suggestions.approve')}</Button>
                  <Button variant="secondary" busy={decline.busy} aria-label={t('teams.suggestions.declineOf', { email: inv.email })} onClick={() => { setDone(null); void decline.run(inv) }}>{t('teams.suggestions.decline')}</Button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Section>
  )
}

function LeaveSection({ data }: { data: TeamView }) {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const [confirming, setConfirming] = useState(false)
  const leave = useAction(async () => {
    const res = await api<LeaveResult>('POST', `/teams/${data.slug}/leave`)
    void navigate('/teams', { state: { notice: res.teamDeleted ? t('teams.leave.deleted', { name: data.name }) : t('teams.leave.left', { name: data.name }) } })
  })
  const lastMember = data.members.length === 1
  const onlyAdmin = !lastMember && data.myRoles.includes('admin') && data.members.filter((m) => m.roles.includes('admin')).length === 1
  return (
    <Section title={t('teams.leave.title')} className="leave">
      <p>{t('teams.leave.body')}</p>
      {lastMember ? <p><strong>{t('teams.leave.lastMember')}</strong></p> : null}
      {onlyAdmin ? <p className="hint" id="leave-last-admin">{t('teams.leave.lastAdmin')}</p> : null}
      {confirming ? (
        <div className="confirm" role="group" aria-label={t('teams.leave.confirm', { name: data.name })} tabIndex={-1} ref={focusOnMount}>
          <p>{t('teams.leave.confirm', { name: data.name })}</p>
          <TeamError error={leave.error} />
          <Button variant="danger" busy={leave.busy} onClick={() => void leave.run()}>{t('teams.leave.yes')}</Button>{' '}
          <Button variant="secondary" onClick={() => setConfirming(false)}>{t('app.cancel')}</Button>
        </div>
      ) : (
        <Button variant="danger" disabled={onlyAdmin} aria-describedby={onlyAdmin ? 'leave-last-admin' : undefined} onClick={() => setConfirming(true)}>{t('teams.leave.button')}</Button>
      )}
    </Section>
  )
}
