import type { ssoEn } from './sso.en.ts'

/** 企业登录控制、IT 配置链接、链接持有者页面及其导致的登录拒绝的文字。 */
export const ssoZhCN: typeof ssoEn = {
  enterprise: {
    title: '企业登录',
    body: '本团队成员的登录规则。在账单功能推出之前，这些是团队设置；之后将随企业版提供。',
    jit: '自动添加新用户（JIT）', jitHint: '通过团队 SSO 首次登录时，如有空闲席位，将创建账户并以开发者身份加入。',
    password: '为成员关闭密码登录', passwordHint: '成员必须使用 SSO 登录（通行密钥也算作 Latchkey 登录）。管理员保留密码，以便身份提供商故障时仍能登录。',
    google: '为成员关闭 Google 登录', googleHint: '成员必须使用 SSO 而不是 Google 登录。管理员不受此限制。',
    needsConnection: '需要一个已启用的 SSO 连接：否则成员将完全无法登录。',
    signOutWarning: '关闭任一项都会让成员在所有设备上退出登录；之后他们通过 SSO 重新登录。',
    twoFactor: '密码登录必须启用两步验证', twoFactorHint: '尚未启用的成员会在下次登录时先完成设置，然后才能进入。',
    maxSession: '最长会话时长（分钟）', maxSessionHint: '{{min}} 至 {{max}} 分钟（90 天）；留空表示不限制。调低后，成员当前的会话也会随之缩短。',
    save: '保存登录设置', saved: '登录设置已保存。',
  },
  setupLinks: {
    title: 'SSO 配置链接',
    body: '给贵公司的 IT 管理员一个链接，让其无需加入团队即可为本团队配置单点登录。链接有效期 7 天，只能打开本团队的 SSO 配置。',
    create: '创建配置链接', created: '配置链接已创建。请立即复制：它只显示这一次。', url: '配置链接', copy: '复制', copied: '已复制。',
    none: '还没有配置链接。', meta: '由 {{name}} 创建于 {{created}} · {{expires}} 过期',
    states: { active: '有效', expired: '已过期', revoked: '已撤销' },
    revoke: '撤销', revokeOf: '撤销创建于 {{created}} 的配置链接', revokeConfirm: '撤销此链接？它将立即失效。', revokeYes: '确认撤销', revoked: '配置链接已撤销。',
  },
  setup: {
    title: '为 {{name}} 配置单点登录', opening: '正在打开配置链接…',
    intro: '{{name}} 的管理员请你将团队连接到贵公司的身份提供商。此链接在 {{date}} 前有效，只能打开本团队的 SSO 配置。',
    admin: '你是 {{name}} 的管理员。',
    formPending: '当本服务器支持 SSO 连接后，连接表单（SAML 元数据或 OIDC 颁发者）将显示在此页面。在此之前，请按以下步骤在身份提供商中准备应用。',
    invalidTitle: '此配置链接无法使用',
    pick: '你的身份提供商',
    providers: {
      okta: { name: 'Okta', s1: '在 Okta 管理控制台中，前往 Applications → Create App Integration，选择 SAML 2.0。', s2: '以团队名称命名应用，将 Latchkey 的 ACS URL 填入“Single sign-on URL”，将其 Entity ID 填入“Audience URI”。', s3: '将“Name ID format”设为 EmailAddress，“Application username”设为 Email。', s4: '分配需要登录的人员或组，然后将 Sign On 标签页中的“Metadata URL”复制到 Latchkey。' },
      entra: { name: 'Microsoft Entra ID', s1: '在 Microsoft Entra 管理中心，前往 企业应用程序 → 新建应用程序 → 创建你自己的应用程序（非库）。', s2: '打开 单一登录 → SAML，将 Latchkey 的 Entity ID 填入“标识符”，将其 ACS URL 填入“回复 URL”。', s3: '保留 user.mail 声明作为邮箱，并确认签名证书使用 SHA-256。', s4: '分配用户和组，然后将“应用联合元数据 URL”复制到 Latchkey。' },
      google: { name: 'Google Workspace', s1: '在 Google 管理控制台中，前往 应用 → 网页和移动应用 → 添加应用 → 添加自定义 SAML 应用。', s2: '在第二步下载 IdP 元数据（或复制 SSO URL、实体 ID 和证书）。', s3: '填入 Latchkey 的 ACS URL 和 Entity ID，将“名称 ID 格式”设为 EMAIL 并选择“主要电子邮件”。', s4: '为需要登录的组织部门开启此应用，然后将元数据粘贴到 Latchkey。' },
      generic: { name: '其他 SAML 2.0 或 OpenID Connect 提供商', s1: 'SAML：使用 Latchkey 的 ACS URL 和 Entity ID 创建应用，断言需签名（RSA-SHA256 或更强），以邮箱作为 Name ID。', s2: 'SAML：向 Latchkey 提供元数据 XML 或其 HTTPS URL，或 SSO URL、颁发者和签名证书（轮换时可提供两个）。', s3: 'OpenID Connect：注册一个 Web 客户端，使用 Latchkey 的重定向 URL、openid email profile 范围和授权码流程。', s4: 'OpenID Connect：向 Latchkey 提供颁发者 URL、客户端 ID 和客户端密钥。在成员依赖它之前先测试连接。' },
    },
  },
  signin: {
    requiresSso: '你的团队 {{teams}} 要求使用单点登录（SSO）。请使用贵公司的登录方式，而不是密码。',
    requiresTwoFactorTitle: '设置两步验证',
    requiresTwoFactorBody: '你的团队 {{teams}} 要求密码登录必须启用两步验证。请立即设置以完成登录。',
    start: '显示设置密钥', finish: '开启并登录', continue: '继续',
  },
}
