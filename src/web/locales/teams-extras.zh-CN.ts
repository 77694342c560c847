/** 团队网址、网址检查、公开资料与邀请预览的文本（pages/teams/profile.tsx），展开到 teams.zh-CN.ts。 */
export const teamsExtrasZhCN = {
  slugCheck: {
    checking: '正在检查此网址是否可用…', available: '此网址可用。', taken: '此团队网址已被占用，请换一个。',
    takenTry: '此团队网址已被占用。可用的网址：{{suggestions}}。',
  },
  url: {
    title: '团队网址', save: '更改网址', changed: '团队现在位于 {{url}}。',
    hint: '在 {{days}} 天内，旧网址的链接仍会把成员带到这里；在此期间其他团队不能使用它。',
  },
  profile: {
    title: '公开资料', body: '任何人都能在 /t/<团队网址> 看到的页面：名称、标志、简介、网站和成员人数（不会显示成员是谁）。',
    editorsOnly: '只有管理员和社区经理可以编辑公开资料。',
    description: '简介', descriptionHint: '纯文本，{{count}}/{{max}} 个字符。', tooLong: '最多 {{max}} 个字符。',
    website: '网站', websiteHint: '以 https:// 开头的地址', httpsOnly: '网站地址必须以 https:// 开头。',
    public: '显示公开资料', isPublic: '公开资料地址：', isPrivate: '公开资料未公开。', save: '保存资料', saved: '公开资料已保存。',
  },
  publicPage: { title: '团队', notFound: '此地址没有公开的团队。' },
  invitePreview: {
    team: '你被邀请加入 {{team}}。', by: '{{inviter}} 邀请你加入 {{team}}。', roles: '你的角色：{{roles}}',
    otherEmail: '此邀请发送到的邮箱地址与当前账户的不同：用此账户无法接受。',
  },
}
