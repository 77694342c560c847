/**
 * The few pages the SAML flow renders itself, before the web app can take over: error pages
 * (one per error, never a bare 500), the IdP-initiated confirmation, the one-time password to
 * link an existing account, and an Admin's test result. English or Simplified Chinese by
 * Accept-Language; no scripts; everything interpolated is HTML-escaped.
 */
import type { ErrorCode } from '../errors.ts'

export type Lang = 'en' | 'zh-CN'

export function langOf(acceptLanguage: string | undefined): Lang {
  return /^\s*zh/i.test(acceptLanguage ?? '') ? 'zh-CN' : 'en'
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

type ErrorText = { title: string; body: string }

/** The SSO errors' pages; other codes fall back to the generic one with the catalog message. */
const ERRORS: Record<Lang, Partial<Record<ErrorCode, ErrorText>> & { fallback: ErrorText }> = {
  en: {
    saml_signature_invalid: { title: 'The sign-in could not be verified', body: 'The identity provider’s answer is not signed with the certificate set up for this connection, or uses an algorithm that is not accepted (RSA-SHA256 or stronger). Your team’s Admin should compare the certificate at the IdP with the one in the connection.' },
    saml_wrong_recipient: { title: 'The sign-in was meant for another service', body: 'The identity provider sent its answer for another address (ACS URL, destination, recipient or audience). Your team’s Admin should check that the IdP uses this connection’s ACS URL and entity ID.' },
    saml_wrong_issuer: { title: 'The sign-in came from another identity provider', body: 'The answer’s issuer is not the identity provider set up for this connection.' },
    saml_expired: { title: 'The sign-in has expired', body: 'The identity provider’s answer is too old (or the clocks disagree by more than a minute). Sign in again.' },
    saml_replayed: { title: 'This sign-in was already used', body: 'Each answer from the identity provider can sign in once. Sign in again.' },
    saml_request_unknown: { title: 'This sign-in was not started here', body: 'The answer does not belong to a sign-in started on this site, or it took too long. Start the sign-in again from this site.' },
    saml_relay_state_invalid: { title: 'This sign-in link is stale', body: 'The sign-in came back with a destination this site does not recognise, it has expired, or it was opened in another browser than the one that started it. Start the sign-in again.' },
    saml_response_invalid: { title: 'The sign-in could not be used', body: 'The identity provider’s answer could not be used. Start again; if it keeps failing, ask your team’s Admin to test the connection.' },
    sso_connection_unknown: { title: 'Unknown sign-in connection', body: 'This single sign-on connection does not exist (any more). Ask your team’s Admin for the right sign-in link.' },
    sso_connection_disabled: { title: 'Single sign-on is switched off', body: 'This team’s single sign-on connection is switched off. Ask your team’s Admin.' },
    sso_email_missing: { title: 'No email address received', body: 'The identity provider did not send an email address (as NameID or an email attribute). Your team’s Admin can add it at the IdP.' },
    sso_domain_not_verified: { title: 'This address is not at a team domain', body: 'Your email address is not at one of the team’s verified domains, so this team’s sign-in cannot be used for it.' },
    sso_jit_not_allowed: { title: 'You are not a member of this team yet', body: 'This team does not add new members automatically. If you have an account here, the team’s Admins have been asked to let you in; you will get an email when they answer.' },
    sso_jit_no_seat: { title: 'No seat is free in this team', body: 'You cannot be added to the team because all its seats are taken. Ask an Admin or a Billing member of the team to add seats.' },
    account_deactivated: { title: 'This account is deactivated', body: 'This account has been deactivated. Contact the operator of this service.' },
    password_incorrect: { title: 'The password is not correct', body: 'Go back and try again, or start the sign-in again.' },
    fallback: { title: 'The sign-in could not be completed', body: 'Start the sign-in again.' },
  },
  'zh-CN': {
    saml_signature_invalid: { title: '无法验证此次登录', body: '身份提供方的应答没有使用此连接配置的证书签名，或使用了不被接受的算法（需 RSA-SHA256 或更强）。请团队管理员核对 IdP 上的证书与连接中的证书。' },
    saml_wrong_recipient: { title: '此次登录是发给其他服务的', body: '身份提供方把应答发给了其他地址（ACS URL、Destination、Recipient 或 Audience 不符）。请团队管理员检查 IdP 是否使用了此连接的 ACS URL 和实体 ID。' },
    saml_wrong_issuer: { title: '此次登录来自其他身份提供方', body: '应答的签发者不是此连接配置的身份提供方。' },
    saml_expired: { title: '此次登录已过期', body: '身份提供方的应答已过期（或双方时钟相差超过一分钟）。请重新登录。' },
    saml_replayed: { title: '此次登录已被使用过', body: '身份提供方的每个应答只能登录一次。请重新登录。' },
    saml_request_unknown: { title: '此次登录不是从本站发起的', body: '该应答不属于本站发起的登录，或耗时过长。请从本站重新发起登录。' },
    saml_relay_state_invalid: { title: '此登录链接已失效', body: '登录返回的目标地址无法识别或已过期，或者是在另一个浏览器中打开的。请重新发起登录。' },
    saml_response_invalid: { title: '无法使用此次登录', body: '无法使用身份提供方的应答。请重新开始；如果仍然失败，请团队管理员测试该连接。' },
    sso_connection_unknown: { title: '未知的登录连接', body: '此单点登录连接不存在（或已删除）。请向团队管理员索取正确的登录链接。' },
    sso_connection_disabled: { title: '单点登录已关闭', body: '该团队的单点登录连接已关闭。请联系团队管理员。' },
    sso_email_missing: { title: '未收到邮箱地址', body: '身份提供方没有发送邮箱地址（NameID 或邮箱属性）。团队管理员可以在 IdP 中添加。' },
    sso_domain_not_verified: { title: '该地址不属于团队域名', body: '你的邮箱地址不在该团队已验证的域名下，因此不能使用该团队的登录。' },
    sso_jit_not_allowed: { title: '你还不是该团队的成员', body: '该团队不会自动添加新成员。如果你在本站已有账户，已请团队管理员批准你加入；他们答复后你会收到邮件。' },
    sso_jit_no_seat: { title: '该团队没有空余席位', body: '团队的席位已全部占用，无法添加你。请团队的管理员或账单成员增加席位。' },
    account_deactivated: { title: '该账户已停用', body: '该账户已被停用。请联系本服务的运营者。' },
    password_incorrect: { title: '密码不正确', body: '请返回重试，或重新发起登录。' },
    fallback: { title: '无法完成登录', body: '请重新发起登录。' },
  },
}

const UI = {
  en: {
    code: 'Error code',
    home: 'Go to the sign-in page',
    confirmTitle: 'Continue signing in?',
    confirmBody: (who: string, connection: string) => `Your identity provider (${connection}) signed you in as ${who}. Continue only if you started this sign-in yourself.`,
    confirm: 'Continue',
    cancel: 'Cancel',
    passwordTitle: 'Connect your account',
    passwordBody: (who: string) => `An account with the address ${who} already exists here. Enter its password once to connect it to single sign-on.`,
    password: 'Password',
    testTitle: 'Test sign-in succeeded',
    testBody: 'The identity provider answered with the attributes below. No session was created and no membership changed.',
    nameId: 'NameID',
    email: 'Email',
    none: '(none)',
  },
  'zh-CN': {
    code: '错误代码',
    home: '前往登录页',
    confirmTitle: '继续登录吗？',
    confirmBody: (who: string, connection: string) => `你的身份提供方（${connection}）已将你登录为 ${who}。仅当此次登录是你本人发起时才继续。`,
    confirm: '继续',
    cancel: '取消',
    passwordTitle: '关联你的账户',
    passwordBody: (who: string) => `本站已有使用 ${who} 的账户。请输入该账户的密码一次，以将其与单点登录关联。`,
    password: '密码',
    testTitle: '测试登录成功',
    testBody: '身份提供方返回了以下属性。未创建会话，也未更改任何成员关系。',
    nameId: 'NameID',
    email: '邮箱',
    none: '（无）',
  },
} as const

const STYLE = `:root{--bg:#f6f7f9;--card:#fff;--text:#1b1f24;--muted:#4a5360;--line:#d5d9e0;--accent:#1f4fd1;--danger:#b42318}
*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;color:var(--text);background:var(--bg);line-height:1.5}
.topbar{padding:10px 20px;background:var(--card);border-bottom:1px solid var(--line);font-weight:700;font-size:1.15rem}
main{display:flex;justify-content:center;padding:24px 16px 48px}.card{width:100%;max-width:520px;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 22px}
h1{margin-top:0;font-size:1.5rem}.muted{color:var(--muted);font-size:.9rem}label{font-weight:600;display:block;margin-bottom:4px}
input[type=password]{font:inherit;padding:9px 10px;border:1px solid #8a93a0;border-radius:6px;width:100%;margin-bottom:14px}
.btn{font:inherit;display:inline-block;padding:9px 16px;border-radius:6px;border:1px solid transparent;cursor:pointer;margin:4px 8px 4px 0}
.btn-primary{background:var(--accent);color:#fff}a.btn{text-decoration:none}.btn-secondary{background:#fff;color:var(--accent);border-color:var(--accent)}
table{border-collapse:collapse;width:100%}td,th{border-top:1px solid var(--line);padding:6px 4px;text-align:left;vertical-align:top;word-break:break-all}`

function page(lang: Lang, title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)} · Latchkey</title><style>${STYLE}</style></head><body><div class="topbar">Latchkey</div><main><div class="card">${body}</div></main></body></html>`
}

export function errorPage(lang: Lang, code: string): string {
  const text = ERRORS[lang][code as ErrorCode] ?? ERRORS[lang].fallback
  return page(
    lang,
    text.title,
    `<h1>${escapeHtml(text.title)}</h1><p>${escapeHtml(text.body)}</p><p class="muted">${UI[lang].code}: <code data-error-code="${escapeHtml(code)}">${escapeHtml(code)}</code></p><p><a class="btn btn-secondary" href="/signin">${UI[lang].home}</a></p>`,
  )
}

export function confirmPage(lang: Lang, input: { action: string; handoff: string; email: string; connectionName: string }): string {
  const t = UI[lang]
  return page(
    lang,
    t.confirmTitle,
    `<h1>${t.confirmTitle}</h1><p>${escapeHtml(t.confirmBody(input.email, input.connectionName))}</p><form method="post" action="${escapeHtml(input.action)}"><input type="hidden" name="handoff" value="${escapeHtml(input.handoff)}"><button class="btn btn-primary" type="submit">${t.confirm}</button><a class="btn btn-secondary" href="/signin">${t.cancel}</a></form>`,
  )
}

export function passwordPage(lang: Lang, input: { action: string; handoff: string; email: string }): string {
  const t = UI[lang]
  return page(
    lang,
    t.passwordTitle,
    `<h1>${t.passwordTitle}</h1><p>${escapeHtml(t.passwordBody(input.email))}</p><form method="post" action="${escapeHtml(input.action)}"><input type="hidden" name="handoff" value="${escapeHtml(input.handoff)}"><label for="password">${t.password}</label><input id="password" name="password" type="password" autocomplete="current-password" required><button class="btn btn-primary" type="submit">${t.confirm}</button></form>`,
  )
}

export function testResultPage(lang: Lang, input: { nameId: string; email: string | null; attributes: Record<string, unknown> }): string {
  const t = UI[lang]
  const rows = Object.entries(input.attributes)
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml((Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', '))}</td></tr>`)
    .join('')
  return page(
    lang,
    t.testTitle,
    `<h1>${t.testTitle}</h1><p>${t.testBody}</p><table><tr><th>${t.nameId}</th><td data-name-id>${escapeHtml(input.nameId)}</td></tr><tr><th>${t.email}</th><td data-email>${escapeHtml(input.email ?? t.none)}</td></tr>${rows}</table>`,
  )
}
