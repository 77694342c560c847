import { ssoZhCN } from './sso.zh-CN.ts'
import type { Messages } from './en.ts'
import { teamsZhCN } from './teams.zh-CN.ts'
import { oauthZhCN } from './oauth.zh-CN.ts'

export const zhCN: Messages = {
  app: { name: 'Latchkey', skip: '跳到主要内容', loading: '加载中…', language: '语言', save: '保存', saved: '已保存。', cancel: '取消', back: '返回', close: '关闭', retry: '重试' },
  nav: { settings: '设置', inbox: '通知', signOut: '退出登录', signIn: '登录', signUp: '注册', accountMenu: '账户菜单', addAccount: '添加其他账户', switchTo: '切换到 {{name}}', active: '当前', unread: '{{count}} 条未读' },
  signup: {
    title: '创建账户', email: '邮箱', username: '用户名', password: '密码', terms: '我接受使用条款', termsLinked: '我接受<doc>使用条款</doc>', privacy: '我们如何处理你的数据：<doc>隐私政策</doc>', submit: '创建账户', haveAccount: '已有账户？',
    usernameHint: '3–32 个字母、数字、- 或 _', available: '可以使用', taken: '已被占用。', try: '可选用以下用户名：', useSuggestion: '使用 {{username}}', checking: '检查中…',
    sent: '请查收邮件', sentBody: '我们已向 {{email}} 发送确认链接，24 小时内有效。',
  },
  strength: { label: '密码强度', 0: '太短', 1: '弱', 2: '一般', 3: '良好', 4: '强' },
  signin: {
    title: '登录', login: '邮箱或用户名', password: '密码', stay: '30 天内保持登录', submit: '登录', trouble: '登录遇到问题？', noAccount: '第一次来？', passkey: '使用通行密钥登录',
    twoFactorTitle: '两步验证', code: '验证码', codeHint: '身份验证器应用中的 6 位数字', verify: '验证', useRecovery: '使用恢复码', useCode: '使用验证器验证码', recoveryCode: '恢复码', usePasskey: '改用通行密钥', addAccountTitle: '添加其他账户',
  },
  confirm: { title: '确认邮箱', confirming: '正在确认你的邮箱…', done: '你的邮箱已确认。', continue: '继续', banner: '请查收邮件：点击我们发送的链接，确认你的邮箱地址（{{email}}）。', resend: '重新发送链接', resent: '新的链接已发送。' },
  onboarding: { title: '介绍一下你自己', name: '姓名', role: '你的角色', roles: { developer: '开发者', qa: '测试', product: '产品', manager: '管理者', student: '学生', other: '其他' }, next: '继续', skip: '暂时跳过', roleLater: '之后可以在“设置 → 个人资料”中更改。' },
  trouble: { title: '登录遇到问题？', body: '输入你账户的邮箱，我们会把用户名和重置密码的链接发给你。', email: '邮箱', captcha: '证明你不是机器人', submit: '发送', sent: '如果有账户使用这个地址，包含用户名和重置链接的邮件已经发出。链接 1 小时内有效。' },
  reset: { title: '设置新密码', password: '新密码', submit: '设置密码', done: '密码已更改，所有设备都已退出登录。请使用新密码登录。' },
  disavow: { title: '不是你本人？', working: '正在退出该设备…', done: '我们已退出该设备，并给你发送了重置密码的链接。' },
  settings: {
    title: '设置', profile: '个人资料', account: '账户', security: '安全', notifications: '通知', sessions: '登录设备',
    displayName: '显示名称', bio: '简介', aboutMe: '关于我（Markdown）', links: '链接（每行一个）', publicProfile: '公开个人资料', publicProfileHint: '任何人都可以在 {{url}} 查看你的资料', viewProfile: '查看公开资料', role: '角色',
    username: '用户名', changeUsername: '修改用户名', email: '邮箱', newEmail: '新邮箱', changeEmail: '修改邮箱', emailPending: '我们已向 {{email}} 发送确认链接。确认之前，当前邮箱仍然有效。',
    emailWaiting: '改为 {{email}} 的邮箱更改正在等待确认：我们于 {{sent}} 发送到该地址的链接在 {{expires}} 之前有效。使用该链接之前，当前邮箱仍然有效。',
    emailResend: '重新发送链接', emailResent: '新的链接已发送到 {{email}}，之前的链接已失效。', emailCancel: '取消更改', emailCancelled: '改为 {{email}} 的更改已取消，其链接已失效。',
    passwordCancelledEmail: '改为 {{email}} 的邮箱更改已随旧密码一起取消，其链接已失效。如仍需更改，请在上方重新申请。',
    currentPassword: '当前密码', newPassword: '新密码', changePassword: '修改密码', passwordChanged: '密码已修改，其他设备已退出登录。',
    deleteTitle: '删除账户', deleteBody: '这会永久删除你的账户和所有数据，无法恢复。', deleteConfirm: '删除我的账户', deleted: '你的账户已删除。', deleteBlocked: '删除账户前，请先退出所有团队。你目前是以下团队的成员：',
    confirmPassword: '密码', enterPassword: '请输入密码。', language: '语言', roleNotSet: '未设置',
  },
  security: {
    twoFactor: '两步验证', on: '已开启', off: '未开启', enable: '开启', disable: '关闭', scan: '用身份验证器应用扫描二维码，或手动输入下面的密钥，然后输入应用显示的 6 位数字。', secret: '设置密钥', confirm: '确认',
    codesTitle: '你的恢复码', codesBody: '每个恢复码只能使用一次。请妥善保存：它们只显示这一次。', codesSignedOut: '两步验证已开启。此浏览器保持登录；你的其他设备已退出登录，需用密码和验证码重新登录。', download: '下载为文本文件', codesLeft: '剩余 {{count}} 个恢复码', regenerate: '生成新的恢复码', done: '完成', cancelSetup: '取消设置', enterCode: '请输入应用显示的 6 位数字。',
    passkeys: '通行密钥', addPasskey: '添加通行密钥', passkeyName: '名称', rename: '重命名', remove: '删除', noPasskeys: '还没有通行密钥。', created: '添加于 {{date}}', lastUsed: '最近使用 {{date}}', never: '从未使用',
    reauthTitle: '确认是你本人', reauthBody: '为了你的安全，请输入密码以继续。', reauth: '确认',
  },
  notifications: { title: '通知偏好', category: '类别', email: '邮件', inApp: '站内', always: '重要的安全邮件（密码、邮箱或两步验证的变更、账户删除）总会发送。', categories: { security: '安全', usage: '用量', monitors: '监控', comments: '评论', team: '团队', billing: '账单' } },
  sessions: { title: '登录设备', current: '本设备', revoke: '退出', revokeAll: '退出其他所有设备', lastActive: '最近活动 {{date}}', created: '登录于 {{date}}', ip: 'IP {{ip}}' },
  inbox: { title: '通知', empty: '没有通知。', markRead: '标为已读', markAll: '全部标为已读', more: '加载更多' },
  profile: { memberSince: '加入于 {{date}}', notFound: '无法查看此个人资料。', avatarAlt: '{{name}} 的头像' },
  errors: {
    linkTitle: '链接无效或已过期', linkBody: '邮件中的链接只能使用一次，并且有有效期。请重新申请。',
    expiredTitle: '登录已过期', expiredBody: '为了你的安全，你已退出登录。请重新登录以继续。',
    deactivatedTitle: '此账户已停用', deactivatedBody: '服务管理员停用了此账户。如果你认为有误，请联系管理员。',
    notFoundTitle: '页面不存在', goHome: '前往登录', generic: '出了点问题，请重试。',
  },
  teams: teamsZhCN,
  oauth: oauthZhCN,
  sso: ssoZhCN,
}
