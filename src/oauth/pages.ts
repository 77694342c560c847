/**
 * The few pages oidc-provider renders itself (device code entry and confirmation, device
 * success, logout confirmation, errors), in Latchkey's look and in English or Simplified
 * Chinese by the browser's Accept-Language. No scripts; styles inline (same palette as the
 * web app's styles.css). Everything interpolated is HTML-escaped.
 */
import type { KoaContextWithOIDC } from 'oidc-provider'

type Lang = 'en' | 'zh-CN'

const TEXT = {
  en: {
    deviceTitle: 'Sign in on another device',
    deviceIntro: 'Enter the code shown in your terminal or app.',
    codeLabel: 'Code',
    continue: 'Continue',
    codeWrong: 'That code is not valid or has expired. Check it and try again.',
    interrupted: 'The sign-in request was interrupted. Start again from your device.',
    formExpired: 'This page expired, or your browser did not send back the cookie it was given. Open the code page again and enter the code from your device.',
    startAgain: 'Enter the code again',
    error: 'Something went wrong with this request. Start again from your device.',
    confirmTitle: 'Is this your device?',
    confirmIntro: (app: string) => `${app} wants to sign in to your Latchkey account.`,
    confirmDevice: (device: string) => `Device: ${device}`,
    confirmCode: 'Make sure this code matches the one on your device:',
    confirmWarn: 'If you did not start this, or the code does not match, cancel.',
    cancel: 'Cancel',
    successTitle: 'You are signed in',
    success: (app: string) => `${app} is now signed in. You can close this page and go back to your device.`,
    errorTitle: 'This request cannot continue',
    logoutTitle: 'Sign out of the app?',
    logoutIntro: 'The app asked to end its sign-in.',
    logoutYes: 'Sign out',
    logoutNo: 'Stay signed in',
    loggedOut: 'You are signed out of the app. You can close this page.',
  },
  'zh-CN': {
    deviceTitle: '在其他设备上登录',
    deviceIntro: '输入终端或应用中显示的代码。',
    codeLabel: '代码',
    continue: '继续',
    codeWrong: '该代码无效或已过期，请检查后重试。',
    interrupted: '登录请求已中断，请在设备上重新开始。',
    formExpired: '此页面已过期，或你的浏览器没有发回之前收到的 Cookie。请重新打开代码页面，输入设备上显示的代码。',
    startAgain: '重新输入代码',
    error: '处理此请求时出错，请在设备上重新开始。',
    confirmTitle: '这是你的设备吗？',
    confirmIntro: (app: string) => `${app} 请求登录你的 Latchkey 账户。`,
    confirmDevice: (device: string) => `设备：${device}`,
    confirmCode: '请确认此代码与设备上显示的一致：',
    confirmWarn: '如果不是你发起的，或代码不一致，请取消。',
    cancel: '取消',
    successTitle: '已登录',
    success: (app: string) => `${app} 已登录。你可以关闭此页面，回到你的设备。`,
    errorTitle: '此请求无法继续',
    logoutTitle: '退出应用登录？',
    logoutIntro: '应用请求结束其登录。',
    logoutYes: '退出登录',
    logoutNo: '保持登录',
    loggedOut: '你已退出该应用的登录。可以关闭此页面。',
  },
} as const

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

function langOf(ctx: KoaContextWithOIDC): Lang {
  const header = String(ctx.get('accept-language') ?? '').toLowerCase()
  return /^\s*zh/.test(header) ? 'zh-CN' : 'en'
}

const STYLE = `:root{--bg:#f6f7f9;--card:#fff;--text:#1b1f24;--muted:#4a5360;--line:#d5d9e0;--accent:#1f4fd1;--danger:#b42318}
*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;color:var(--text);background:var(--bg);line-height:1.5}
.topbar{padding:10px 20px;background:var(--card);border-bottom:1px solid var(--line);font-weight:700;font-size:1.15rem}
main{display:flex;justify-content:center;padding:24px 16px 48px}.card{width:100%;max-width:440px;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 22px}
h1{margin-top:0;font-size:1.5rem}label{font-weight:600;display:block;margin-bottom:4px}
input[type=text]{font:inherit;font-size:1.3rem;letter-spacing:.1em;text-transform:uppercase;text-align:center;padding:9px 10px;border:1px solid #8a93a0;border-radius:6px;width:100%;margin-bottom:14px}
.btn{font:inherit;display:inline-block;padding:9px 16px;border-radius:6px;border:1px solid transparent;cursor:pointer;margin:4px 8px 4px 0}
.btn-primary{background:var(--accent);color:#fff}a.btn{text-decoration:none}.btn-secondary{background:#fff;color:var(--accent);border-color:var(--accent)}
.error{color:var(--danger);font-weight:600}.hint{color:var(--muted)}code{font-size:1.6rem;letter-spacing:.1em}
:focus-visible{outline:3px solid #ffb020;outline-offset:2px}`

function page(ctx: KoaContextWithOIDC, title: string, body: string): void {
  const lang = langOf(ctx)
  ctx.type = 'html'
  ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
  ctx.body = `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Latchkey</title><style>${STYLE}</style></head><body><header class="topbar">Latchkey</header><main id="main"><div class="card">${body}</div></main></body></html>`
}

/** Reads what oidc-provider's own form carries (action and CSRF token) into our markup. */
function formParts(form: string): { action: string; xsrf: string } {
  const action = /action="([^"]*)"/.exec(form)?.[1] ?? ''
  const xsrf = /name="xsrf" value="([^"]*)"/.exec(form)?.[1] ?? ''
  return { action, xsrf }
}

/**
 * The code entry page. Its form carries `confirm=yes`, so a code typed here by hand goes
 * straight on to Latchkey's "Continue as" page (app, device name and a device-flow warning),
 * without oidc-provider's "Is this your device?" step: two confirmations, not three. A person
 * who read the code off their own screen and typed it has already matched it.
 *
 * The verification link with the code in it (`verification_uri_complete`, `?user_code=`) does
 * not come through this form: oidc-provider posts the code without `confirm`, so that link
 * still shows "Is this your device?" with the code to compare (userCodeConfirmSource). That is
 * the phishing case: an attacker starts a device sign-in and sends the victim the complete
 * link, and the code shown beside "does this match your device?" is the one check left.
 */
export async function userCodeInputSource(ctx: KoaContextWithOIDC, form: string, _out: unknown, err?: Error & { userCode?: string }): Promise<void> {
  const t = TEXT[langOf(ctx)]
  const { action, xsrf } = formParts(form)
  // An error on a request that brought no oidc-provider session (no cookie, or an expired
  // one): a form here could never be accepted, so the page sends the person back to a fresh one.
  if (err && typeof (ctx.oidc.session as { exp?: number } | undefined)?.exp !== 'number') {
    page(ctx, t.deviceTitle, `<h1>${escapeHtml(t.deviceTitle)}</h1><p class="error" role="alert">${escapeHtml(t.formExpired)}</p>
<p><a class="btn btn-primary" href="${escapeHtml(action)}">${escapeHtml(t.startAgain)}</a></p>`)
    return
  }
  let message = `<p class="hint">${escapeHtml(t.deviceIntro)}</p>`
  if (err && (err.userCode || err.name === 'NoCodeError')) message = `<p class="error" role="alert">${escapeHtml(t.codeWrong)}</p>`
  else if (err && err.name === 'AbortedError') message = `<p class="error" role="alert">${escapeHtml(t.interrupted)}</p>`
  else if (err) message = `<p class="error" role="alert">${escapeHtml(t.error)}</p>`
  page(ctx, t.deviceTitle, `<h1>${escapeHtml(t.deviceTitle)}</h1>${message}
<form method="post" action="${escapeHtml(action)}" novalidate>
<input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}"><input type="hidden" name="confirm" value="yes">
<label for="user_code">${escapeHtml(t.codeLabel)}</label>
<input type="text" id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus placeholder="XXXX-XXXX">
<button class="btn btn-primary" type="submit">${escapeHtml(t.continue)}</button>
</form>`)
}

export async function userCodeConfirmSource(ctx: KoaContextWithOIDC, form: string, client: { clientName?: string; clientId: string }, _deviceInfo: unknown, userCode: string): Promise<void> {
  const t = TEXT[langOf(ctx)]
  const { action, xsrf } = formParts(form)
  const app = client.clientName ?? client.clientId
  const deviceName = (ctx.oidc.entities.DeviceCode?.params?.device_name as string | undefined) ?? ''
  const hidden = `<input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}"><input type="hidden" name="user_code" value="${escapeHtml(userCode)}"><input type="hidden" name="confirm" value="yes">`
  page(ctx, t.confirmTitle, `<h1>${escapeHtml(t.confirmTitle)}</h1>
<p>${escapeHtml(t.confirmIntro(app))}</p>
${deviceName ? `<p>${escapeHtml(t.confirmDevice(deviceName))}</p>` : ''}
<p>${escapeHtml(t.confirmCode)}</p><p><code>${escapeHtml(userCode)}</code></p>
<p class="hint">${escapeHtml(t.confirmWarn)}</p>
<form method="post" action="${escapeHtml(action)}">${hidden}
<button class="btn btn-primary" type="submit" autofocus>${escapeHtml(t.continue)}</button>
<button class="btn btn-secondary" type="submit" name="abort" value="yes">${escapeHtml(t.cancel)}</button>
</form>`)
}

export async function successSource(ctx: KoaContextWithOIDC): Promise<void> {
  const t = TEXT[langOf(ctx)]
  const app = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? 'The app'
  page(ctx, t.successTitle, `<h1>${escapeHtml(t.successTitle)}</h1><p role="status">${escapeHtml(t.success(app))}</p>`)
}

export async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const t = TEXT[langOf(ctx)]
  const { action, xsrf } = formParts(form)
  page(ctx, t.logoutTitle, `<h1>${escapeHtml(t.logoutTitle)}</h1><p>${escapeHtml(t.logoutIntro)}</p>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}">
<button class="btn btn-primary" type="submit" name="logout" value="yes" autofocus>${escapeHtml(t.logoutYes)}</button>
<button class="btn btn-secondary" type="submit">${escapeHtml(t.logoutNo)}</button></form>`)
}

export async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  const t = TEXT[langOf(ctx)]
  page(ctx, t.logoutTitle, `<h1>${escapeHtml(t.logoutTitle)}</h1><p role="status">${escapeHtml(t.loggedOut)}</p>`)
}

/** Errors shown in the browser (the redirect URI could not be trusted, so none is used). */
export async function renderError(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }): Promise<void> {
  const t = TEXT[langOf(ctx)]
  const description = out.error_description ?? t.error
  page(ctx, t.errorTitle, `<h1>${escapeHtml(t.errorTitle)}</h1><p class="error" role="alert">${escapeHtml(description)}</p><p class="hint"><code style="font-size:1rem">${escapeHtml(out.error ?? 'error')}</code></p>`)
}
