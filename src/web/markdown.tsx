/**
 * "About me" Markdown, rendered as React elements: a small, safe subset of CommonMark written
 * here rather than a Markdown library plus an HTML sanitiser. Why: a library turns Markdown
 * into an HTML string that must then be sanitised and injected (dangerouslySetInnerHTML), and
 * the safety rests on the sanitiser's configuration; here no HTML string exists at all. Every
 * piece of text reaches the page as a React text node, so raw HTML in the input (`<script>`,
 * `<img onerror>`) shows as the characters typed, and the only attribute taken from input is a
 * link's href, which must parse as http:, https: or mailto:. It adds nothing to the bundle
 * (about-me texts are at most 5,000 characters: see accounts/routes.ts).
 *
 * Supported: headings (`#`…`######`, shown a level below the page title), paragraphs, `-`/`*`/`+`
 * and `1.` lists, `>` quotes, fenced ``` code blocks, `---` rules; inline `code`, **strong**,
 * *emphasis*, [links](https://…), <https://…> autolinks and backslash escapes. Anything else
 * stays plain text.
 */
import { Fragment, type ReactNode } from 'react'

/** Links open only these: no javascript:, data:, vbscript: or relative tricks. */
const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:'])
/** Inline nesting deeper than this is shown as text (bounds the work on hostile input). */
const MAX_DEPTH = 4

export function safeHref(raw: string): string | null {
  const trimmed = raw.trim()
  // Control characters and spaces inside a scheme are how `java\tscript:` slips past naive checks.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(trimmed)) return null
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return null
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null
}

const LINK_REL = 'nofollow noopener noreferrer ugc'

function link(href: string, children: ReactNode, key: number): ReactNode {
  return <a key={key} href={href} rel={LINK_REL}>{children}</a>
}

const ESCAPABLE = /[\\`*_[\]()<>#+\-.!|{}~>]/

/** Inline Markdown to React nodes; `depth` bounds nesting of strong/emphasis/links. */
export function renderInline(text: string, depth = 0): ReactNode[] {
  const out: ReactNode[] = []
  let plain = ''
  let key = 0
  const flush = () => {
    if (plain) out.push(plain)
    plain = ''
  }
  let i = 0
  while (i < text.length) {
    const c = text.charAt(i)
    if (c === '\\' && i + 1 < text.length && ESCAPABLE.test(text.charAt(i + 1))) {
      plain += text.charAt(i + 1)
      i += 2
      continue
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1)
      if (end > i + 1) {
        flush()
        out.push(<code key={key++}>{text.slice(i + 1, end)}</code>)
        i = end + 1
        continue
      }
    }
    if (depth < MAX_DEPTH && (c === '*' || c === '_')) {
      const double = text.charAt(i + 1) === c
      const marker = double ? c + c : c
      const before = i > 0 ? text.charAt(i - 1) : ' '
      // `snake_case_names` stay as they are: an underscore inside a word is not emphasis.
      const first = text.charAt(i + marker.length)
      const opens = first !== '' && !/\s/.test(first) && !(c === '_' && /[\p{L}\p{N}]/u.test(before))
      if (opens) {
        let end = text.indexOf(marker, i + marker.length + 1)
        while (end !== -1 && (/\s/.test(text.charAt(end - 1)) || (!double && text.charAt(end + 1) === c) || (c === '_' && /[\p{L}\p{N}]/u.test(text.charAt(end + marker.length))))) {
          end = text.indexOf(marker, end + 1)
        }
        if (end !== -1) {
          flush()
          const inner = renderInline(text.slice(i + marker.length, end), depth + 1)
          out.push(double ? <strong key={key++}>{inner}</strong> : <em key={key++}>{inner}</em>)
          i = end + marker.length
          continue
        }
      }
    }
    if (c === '[' && depth < MAX_DEPTH) {
      const close = text.indexOf('](', i + 1)
      const end = close === -1 ? -1 : text.indexOf(')', close + 2)
      if (close > i && end !== -1) {
        const label = text.slice(i + 1, close)
        const href = safeHref(text.slice(close + 2, end))
        flush()
        // A link whose target is not safe keeps its words and loses the link.
        const inner = renderInline(label, MAX_DEPTH)
        out.push(href ? link(href, inner, key++) : <Fragment key={key++}>{inner}</Fragment>)
        i = end + 1
        continue
      }
    }
    if (c === '<') {
      const end = text.indexOf('>', i + 1)
      const href = end === -1 ? null : safeHref(text.slice(i + 1, end))
      if (end !== -1 && href && /^(https?|mailto):/i.test(text.slice(i + 1, end))) {
        flush()
        out.push(link(href, text.slice(i + 1, end), key++))
        i = end + 1
        continue
      }
    }
    plain += c
    i += 1
  }
  flush()
  return out
}

type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'quote'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'rule' }

const LIST_ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/

export function parseBlocks(source: string): Block[] {
  const all = source.replace(/\r\n?/g, '\n').split('\n')
  const line = (n: number): string => all[n] ?? ''
  const blocks: Block[] = []
  let i = 0
  while (i < all.length) {
    const current = line(i)
    if (!current.trim()) {
      i += 1
      continue
    }
    const fence = /^\s{0,3}(```|~~~)/.exec(current)
    if (fence) {
      const body: string[] = []
      i += 1
      while (i < all.length && !line(i).trimStart().startsWith(fence[1] ?? '```')) body.push(line(i++))
      i += 1
      blocks.push({ kind: 'code', text: body.join('\n') })
      continue
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(current)
    if (heading) {
      blocks.push({ kind: 'heading', level: (heading[1] ?? '#').length, text: heading[2] ?? '' })
      i += 1
      continue
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(current)) {
      blocks.push({ kind: 'rule' })
      i += 1
      continue
    }
    if (/^\s{0,3}>/.test(current)) {
      const body: string[] = []
      while (i < all.length && /^\s{0,3}>/.test(line(i))) body.push(line(i++).replace(/^\s{0,3}>\s?/, ''))
      blocks.push({ kind: 'quote', text: body.join(' ') })
      continue
    }
    const item = LIST_ITEM.exec(current)
    if (item) {
      const ordered = /\d/.test(item[1] ?? '')
      const items: string[] = []
      while (i < all.length) {
        const next = LIST_ITEM.exec(line(i))
        if (next && /\d/.test(next[1] ?? '') === ordered) items.push(next[2] ?? '')
        else if (line(i).trim() && /^\s{2,}/.test(line(i)) && items.length) items[items.length - 1] += ` ${line(i).trim()}`
        else break
        i += 1
      }
      blocks.push({ kind: 'list', ordered, items })
      continue
    }
    const body: string[] = []
    while (i < all.length && line(i).trim() && !/^\s{0,3}(#{1,6}\s|>|```|~~~)/.test(line(i)) && !LIST_ITEM.test(line(i))) body.push(line(i++).trim())
    blocks.push({ kind: 'paragraph', text: body.join(' ') })
  }
  return blocks
}

/**
 * The rendered Markdown. `headingBase` is the level a `#` heading takes (the page's own title
 * is the h1), capped at h6.
 */
export function Markdown({ source, headingBase = 2, className }: { source: string; headingBase?: number; className?: string }) {
  return (
    <div className={className}>
      {parseBlocks(source).map((block, key) => {
        switch (block.kind) {
          case 'heading': {
            const Tag = `h${Math.min(6, headingBase + block.level - 1)}` as 'h2'
            return <Tag key={key}>{renderInline(block.text)}</Tag>
          }
          case 'paragraph':
            return <p key={key}>{renderInline(block.text)}</p>
          case 'quote':
            return <blockquote key={key}><p>{renderInline(block.text)}</p></blockquote>
          case 'code':
            return <pre key={key}><code>{block.text}</code></pre>
          case 'rule':
            return <hr key={key} />
          case 'list': {
            const items = block.items.map((item, n) => <li key={n}>{renderInline(item)}</li>)
            return block.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>
          }
        }
      })}
    </div>
  )
}
