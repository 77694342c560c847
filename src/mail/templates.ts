/**
 * Every email Latchkey sends, in English and Simplified Chinese, each with a text and an
 * HTML part. Values are escaped for HTML; links are always built from PUBLIC_URL by callers.
 */
import { LOCALES, type Locale } from './locales.ts'

export { LOCALES, type Locale }

export function pickLocale(value: string | null | undefined): Locale {
  if (!value) return 'en'
  for (const part of value.split(',')) {
    const tag = part.split(';')[0].trim().toLowerCase()
    if (tag.startsWith('zh')) return 'zh-CN'
    if (tag.startsWith('en')) return 'en'
  }
  return 'en'
}

interface Paragraphs {
  subject: string
  /** Lines of text; `{link}` marks where a button goes in HTML. */
  lines: string[]
  link?: { label: string; url: string }
}

type TemplateFn<V> = (vars: V, locale: Locale) => Paragraphs

const t = <V>(fn: TemplateFn<V>) => fn

export const TEMPLATES = {
  confirm_email: t<{ username: string; link: string }>(({ username, link }, l) =>
    l === 'zh-CN'
      ? { subject: '请确认你的邮箱地址', lines: [`${username}，你好：`, '请点击下面的链接确认你的 Latchkey 邮箱地址。链接 24 小时内有效，只能使用一次。'], link: { label: '确认邮箱', url: link } }
      : { subject: 'Confirm your email address', lines: [`Hi ${username},`, 'Confirm the email address of your Latchkey account. The link works once, for 24 hours.'], link: { label: 'Confirm email', url: link } },
  ),
  signup_existing_account: t<{ signinUrl: string; recoveryUrl: string }>(({ signinUrl, recoveryUrl }, l) =>
    l === 'zh-CN'
      ? { subject: '有人尝试用你的邮箱注册', lines: ['有人尝试用此邮箱地址注册新的 Latchkey 账户，但该地址已经有账户了。', `如果是你本人，请直接登录：${signinUrl}`, `忘记密码？可以在这里找回：${recoveryUrl}`, '如果不是你，可以忽略这封邮件。'] }
      : { subject: 'Someone tried to sign up with your email', lines: ['Someone tried to create a Latchkey account with this email address, which already has one.', `If it was you, sign in instead: ${signinUrl}`, `Forgot your password? Recover access here: ${recoveryUrl}`, 'If it was not you, you can ignore this email.'] },
  ),
  email_change_confirm: t<{ username: string; link: string }>(({ username, link }, l) =>
    l === 'zh-CN'
      ? { subject: '确认你的新邮箱地址', lines: [`${username}，你好：`, '请确认这是你 Latchkey 账户的新邮箱地址。确认之前，旧地址仍然有效。链接 24 小时内有效。'], link: { label: '确认新邮箱', url: link } }
      : { subject: 'Confirm your new email address', lines: [`Hi ${username},`, 'Confirm this as the new email address of your Latchkey account. Until you do, the old address stays in force. The link works once, for 24 hours.'], link: { label: 'Confirm new email', url: link } },
  ),
  email_change_requested: t<{ username: string; newEmail: string }>(({ username, newEmail }, l) =>
    l === 'zh-CN'
      ? { subject: '有人请求更改你的邮箱地址', lines: [`${username}，你好：`, `有人请求把你的 Latchkey 账户邮箱改为 ${newEmail}。在新地址确认之前不会生效。`, '如果不是你本人操作，请立即修改密码。'] }
      : { subject: 'A change of your email address was requested', lines: [`Hi ${username},`, `Someone asked to change your Latchkey email address to ${newEmail}. Nothing changes until the new address is confirmed.`, 'If this was not you, change your password now.'] },
  ),
  email_change_unavailable: t<Record<string, never>>((_, l) =>
    l === 'zh-CN'
      ? { subject: '无法使用此邮箱地址', lines: ['有人请求把一个 Latchkey 账户的邮箱改为此地址，但此地址已属于另一个账户，所以没有更改。'] }
      : { subject: 'This email address could not be used', lines: ['Someone asked to move a Latchkey account to this email address, but it already belongs to another account, so nothing was changed.'] },
  ),
  email_changed: t<{ username: string; newEmail: string }>(({ username, newEmail }, l) =>
    l === 'zh-CN'
      ? { subject: '你的邮箱地址已更改', lines: [`${username}，你好：`, `你的 Latchkey 账户邮箱已改为 ${newEmail}。`, '如果不是你本人操作，请立即联系服务管理员。'] }
      : { subject: 'Your email address was changed', lines: [`Hi ${username},`, `The email address of your Latchkey account is now ${newEmail}.`, 'If this was not you, contact the operator of this service at once.'] },
  ),
  // A pending email change dies with the old password (accounts/tokens.ts): say so, or its link
  // would later just read "invalid or expired" to someone who never learned why.
  password_changed: t<{ username: string; recoveryUrl: string; cancelledEmailChange?: string | null }>(({ username, recoveryUrl, cancelledEmailChange }, l) =>
    l === 'zh-CN'
      ? { subject: '你的密码已更改', lines: [`${username}，你好：`, '你的 Latchkey 账户密码刚刚被更改，其他设备上的登录已被退出。', ...(cancelledEmailChange ? [`等待确认的邮箱更改（改为 ${cancelledEmailChange}）已随之取消，发往该地址的确认链接已失效。如仍需更改，请在账户设置中重新申请。`] : []), `如果不是你本人操作，请立即重置密码：${recoveryUrl}`] }
      : { subject: 'Your password was changed', lines: [`Hi ${username},`, 'The password of your Latchkey account was just changed, and your other devices were signed out.', ...(cancelledEmailChange ? [`Your pending change of email address to ${cancelledEmailChange} was cancelled with it: the confirmation link sent there no longer works. To change your address, ask again in your account settings.`] : []), `If this was not you, reset your password now: ${recoveryUrl}`] },
  ),
  username_changed: t<{ username: string; previousUsername: string; recoveryUrl: string }>(({ username, previousUsername, recoveryUrl }, l) =>
    l === 'zh-CN'
      ? { subject: '你的用户名已更改', lines: [`${username}，你好：`, `你的 Latchkey 用户名已从 ${previousUsername} 改为 ${username}。登录时请使用新用户名或你的邮箱地址。`, `如果不是你本人操作，请立即重置密码：${recoveryUrl}`] }
      : { subject: 'Your username was changed', lines: [`Hi ${username},`, `The username of your Latchkey account changed from ${previousUsername} to ${username}. Sign in with the new one or with your email address.`, `If this was not you, reset your password now: ${recoveryUrl}`] },
  ),
  recovery: t<{ username: string; link: string }>(({ username, link }, l) =>
    l === 'zh-CN'
      ? { subject: '你的用户名和密码重置链接', lines: [`你的 Latchkey 用户名是：${username}`, '如需重置密码，请点击下面的链接。链接 1 小时内有效，只能使用一次。', '如果不是你本人请求的，可以忽略这封邮件，你的密码不会改变。'], link: { label: '重置密码', url: link } }
      : { subject: 'Your username and a password reset link', lines: [`Your Latchkey username is: ${username}`, 'To reset your password, use the link below. It works once, for 1 hour.', 'If you did not ask for this, ignore this email; your password stays the same.'], link: { label: 'Reset password', url: link } },
  ),
  account_deleted: t<{ username: string }>(({ username }, l) =>
    l === 'zh-CN'
      ? { subject: '你的账户已删除', lines: [`${username}，你好：`, '你的 Latchkey 账户及其数据已被永久删除。感谢你的使用。'] }
      : { subject: 'Your account was deleted', lines: [`Hi ${username},`, 'Your Latchkey account and its data have been deleted for good. Thank you for using Latchkey.'] },
  ),
  account_deactivated: t<{ username: string }>(({ username }, l) =>
    l === 'zh-CN'
      ? { subject: '你的账户已被停用', lines: [`${username}，你好：`, '服务管理员停用了你的 Latchkey 账户，所有设备都已退出登录。如有疑问，请联系管理员。'] }
      : { subject: 'Your account was deactivated', lines: [`Hi ${username},`, 'The operator of this service deactivated your Latchkey account and signed it out everywhere. Contact them if you have questions.'] },
  ),
  signin_new_device: t<{ username: string; browser: string; os: string; ip: string; at: string; disavowLink: string }>(({ username, browser, os, ip, at, disavowLink }, l) =>
    l === 'zh-CN'
      ? { subject: '新设备登录了你的账户', lines: [`${username}，你好：`, `你的 Latchkey 账户刚刚在一台新设备上登录：${browser}，${os}，IP 地址 ${ip}，时间 ${at}。`, '如果是你本人，无需任何操作。如果不是你，请点击下面的链接：我们会退出该设备并发送密码重置邮件。'], link: { label: '这不是我', url: disavowLink } }
      : { subject: 'New sign-in to your account', lines: [`Hi ${username},`, `Your Latchkey account was just signed in from a new device: ${browser} on ${os}, IP address ${ip}, at ${at}.`, 'If this was you, there is nothing to do. If it was not, use the link below: we will sign that device out and send you a password reset link.'], link: { label: 'This wasn\'t me', url: disavowLink } },
  ),
  two_factor_enabled: t<{ username: string }>(({ username }, l) =>
    l === 'zh-CN'
      ? { subject: '两步验证已开启', lines: [`${username}，你好：`, '你的 Latchkey 账户已开启两步验证。开启它的浏览器保持登录，其他所有设备都已退出登录，需用密码和验证码重新登录。请妥善保管恢复码。'] }
      : { subject: 'Two-factor authentication is on', lines: [`Hi ${username},`, 'Two-factor authentication is now on for your Latchkey account. The browser that turned it on stays signed in; every other device was signed out and signs in again with the password and a code. Keep your recovery codes somewhere safe.'] },
  ),
  two_factor_disabled: t<{ username: string; byOperator: boolean }>(({ username, byOperator }, l) =>
    l === 'zh-CN'
      ? { subject: '两步验证已关闭', lines: [`${username}，你好：`, byOperator ? '服务管理员按你的请求重置了你账户的两步验证。' : '你的 Latchkey 账户已关闭两步验证。', '如果不是你本人操作，请立即修改密码并联系服务管理员。'] }
      : { subject: 'Two-factor authentication was turned off', lines: [`Hi ${username},`, byOperator ? 'The operator of this service reset two-factor authentication on your account, as you asked.' : 'Two-factor authentication was turned off for your Latchkey account.', 'If this was not you, change your password now and contact the operator.'] },
  ),
  recovery_codes_low: t<{ username: string; remaining: number }>(({ username, remaining }, l) =>
    l === 'zh-CN'
      ? { subject: '你的恢复码快用完了', lines: [`${username}，你好：`, `你只剩 ${remaining} 个未使用的恢复码。请在账户设置中重新生成恢复码。`] }
      : { subject: 'You are running out of recovery codes', lines: [`Hi ${username},`, `Only ${remaining} unused recovery code${remaining === 1 ? '' : 's'} remain. Generate new ones in your account settings.`] },
  ),
  recovery_codes_regenerated: t<{ username: string }>(({ username }, l) =>
    l === 'zh-CN'
      ? { subject: '已生成新的恢复码', lines: [`${username}，你好：`, '你的账户生成了新的恢复码，旧的恢复码已全部失效。'] }
      : { subject: 'New recovery codes were generated', lines: [`Hi ${username},`, 'New recovery codes were generated for your account; the old ones no longer work.'] },
  ),
  passkey_added: t<{ username: string; name: string }>(({ username, name }, l) =>
    l === 'zh-CN'
      ? { subject: '已添加新的通行密钥', lines: [`${username}，你好：`, `你的账户添加了一个新的通行密钥：${name}。`, '如果不是你本人操作，请立即删除它并修改密码。'] }
      : { subject: 'A passkey was added to your account', lines: [`Hi ${username},`, `A new passkey, "${name}", was added to your account.`, 'If this was not you, remove it and change your password now.'] },
  ),
  team_invitation: t<{ teamName: string; inviter: string; roles: string; link: string }>(({ teamName, inviter, roles, link }, l) =>
    l === 'zh-CN'
      ? { subject: `${inviter} 邀请你加入 Latchkey 团队「${teamName}」`, lines: [`${inviter} 邀请你以 ${roles} 身份加入团队「${teamName}」。`, '请用此邮箱地址对应的 Latchkey 账户登录后接受邀请（邮箱需已确认）。邀请只能使用一次，在被接受或取消之前一直有效。', '如果你不认识邀请人，可以忽略这封邮件。'], link: { label: '接受邀请', url: link } }
      : { subject: `${inviter} invited you to the team "${teamName}" on Latchkey`, lines: [`${inviter} invited you to join the team "${teamName}" as ${roles}.`, 'Sign in with the Latchkey account that has this email address (confirmed) to accept. The invitation works once and stays valid until it is accepted or cancelled.', 'If you do not know the sender, you can ignore this email.'], link: { label: 'Accept invitation', url: link } },
  ),
  team_invitation_suggested: t<{ teamName: string; suggestedBy: string; email: string; roles: string; link: string }>(({ teamName, suggestedBy, email, roles, link }, l) =>
    l === 'zh-CN'
      ? { subject: `「${teamName}」有一条待批准的邀请建议`, lines: [`${suggestedBy} 建议邀请 ${email} 以 ${roles} 身份加入团队「${teamName}」。`, '作为管理员，你可以在团队页面批准或拒绝这条建议。'], link: { label: '查看团队', url: link } }
      : { subject: `An invitation to "${teamName}" waits for your approval`, lines: [`${suggestedBy} suggested inviting ${email} to the team "${teamName}" as ${roles}.`, 'As an Admin of the team, you can approve or decline it on the team page.'], link: { label: 'Open the team', url: link } },
  ),
  team_member_removed: t<{ username: string; teamName: string }>(({ username, teamName }, l) =>
    l === 'zh-CN'
      ? { subject: `你已被移出团队「${teamName}」`, lines: [`${username}，你好：`, `团队「${teamName}」的管理员把你移出了团队。你的个人内容仍归你所有。`] }
      : { subject: `You were removed from the team "${teamName}"`, lines: [`Hi ${username},`, `An Admin of the team "${teamName}" removed you from it. Your own work stays yours.`] },
  ),
  team_join_requested: t<{ teamName: string; requester: string; email: string; question: string; answer: string; link: string }>(({ teamName, requester, email, question, answer, link }, l) =>
    l === 'zh-CN'
      ? { subject: `${requester} 申请加入团队「${teamName}」`, lines: [`${requester}（${email}）通过已验证的邮箱域名找到了团队「${teamName}」，申请加入。`, ...(question ? [`问题：${question}`, `回答：${answer || '（未回答）'}`] : []), '作为管理员，你可以在团队页面批准或拒绝这条申请。'], link: { label: '查看申请', url: link } }
      : { subject: `${requester} asks to join "${teamName}"`, lines: [`${requester} (${email}) found the team "${teamName}" through its verified email domain and asks to join.`, ...(question ? [`Question: ${question}`, `Answer: ${answer || '(no answer)'}`] : []), 'As an Admin of the team, you can approve or deny the request on the team page.'], link: { label: 'See the request', url: link } },
  ),
  team_join_approved: t<{ teamName: string; roles: string; link: string }>(({ teamName, roles, link }, l) =>
    l === 'zh-CN'
      ? { subject: `你已加入团队「${teamName}」`, lines: [`你加入团队「${teamName}」的申请已获批准，你的角色是 ${roles}。`], link: { label: '打开团队', url: link } }
      : { subject: `You joined the team "${teamName}"`, lines: [`Your request to join the team "${teamName}" was approved. Your role: ${roles}.`], link: { label: 'Open the team', url: link } },
  ),
  team_join_denied: t<{ teamName: string }>(({ teamName }, l) =>
    l === 'zh-CN'
      ? { subject: `关于你加入「${teamName}」的申请`, lines: [`团队「${teamName}」的管理员没有接受你这次的加入申请。`, '如有需要，团队仍可以通过邀请让你加入。'] }
      : { subject: `About your request to join "${teamName}"`, lines: [`The Admins of the team "${teamName}" did not accept your request to join this time.`, 'The team can still invite you if needed.'] },
  ),
  team_invitation_notice: t<{ teamName: string; inviter: string; roles: string }>(({ teamName, inviter, roles }, l) =>
    l === 'zh-CN'
      ? { subject: `${inviter} 邀请你加入团队「${teamName}」`, lines: [`${inviter} 邀请你以 ${roles} 身份加入团队「${teamName}」。`, '请打开我们发到你邮箱的邀请邮件，点击其中的链接接受邀请。'] }
      : { subject: `${inviter} invited you to the team "${teamName}"`, lines: [`${inviter} invited you to join the team "${teamName}" as ${roles}.`, 'Open the invitation we emailed you and use its link to accept.'] },
  ),
} as const

export type TemplateName = keyof typeof TEMPLATES
export type TemplateVars<N extends TemplateName> = Parameters<(typeof TEMPLATES)[N]>[0]

export interface RenderedMail {
  subject: string
  text: string
  html: string
  /** The message's own lines, without greeting links or footer: the in-app notification text. */
  lines: string[]
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

export function renderMail<N extends TemplateName>(name: N, vars: TemplateVars<N>, locale: Locale): RenderedMail {
  const content = (TEMPLATES[name] as TemplateFn<TemplateVars<N>>)(vars, locale)
  const footer = locale === 'zh-CN' ? '这是 Latchkey 发送的自动邮件，请勿回复。' : 'This is an automatic message from Latchkey; replies are not read.'
  const text = [...content.lines, ...(content.link ? [`${content.link.label}: ${content.link.url}`] : []), '', '—', footer].join('\n\n')
  const htmlLines = content.lines.map((line) => `<p style="margin:0 0 16px">${escapeHtml(line)}</p>`).join('')
  const button = content.link
    ? `<p style="margin:24px 0"><a href="${escapeHtml(content.link.url)}" style="background:#1f4fd1;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;display:inline-block">${escapeHtml(content.link.label)}</a></p><p style="margin:0 0 16px;font-size:13px;color:#555;word-break:break-all">${escapeHtml(content.link.url)}</p>`
    : ''
  const html = `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(content.subject)}</title></head><body style="font-family:system-ui,sans-serif;color:#1a1a1a;max-width:560px;margin:0 auto;padding:24px">${htmlLines}${button}<hr style="border:none;border-top:1px solid #ddd"><p style="font-size:12px;color:#666">${escapeHtml(footer)}</p></body></html>`
  return { subject: content.subject, text, html, lines: content.lines }
}
