/**
 * The about-me Markdown renderer (markdown.tsx): what it renders, and that hostile input never
 * becomes markup, script or an unsafe link. Rendered with React's own server renderer, so the
 * HTML checked is the HTML the browser gets.
 */
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { Markdown, safeHref } from './markdown.tsx'

const html = (source: string) => renderToStaticMarkup(createElement(Markdown, { source }))

describe('about-me Markdown', () => {
  describe('renders the common subset', () => {
    it('headings a level below the page title, paragraphs, strong, emphasis and code', () => {
      expect(html('# Hello\n\nI write **APIs** and *tests*, in `TypeScript`.')).toBe(
        '<div><h2>Hello</h2><p>I write <strong>APIs</strong> and <em>tests</em>, in <code>TypeScript</code>.</p></div>',
      )
      expect(html('### Small')).toBe('<div><h4>Small</h4></div>')
    })

    it('lists, quotes, rules and fenced code', () => {
      expect(html('- one\n- **two**\n\n1. first\n2. second')).toBe('<div><ul><li>one</li><li><strong>two</strong></li></ul><ol><li>first</li><li>second</li></ol></div>')
      expect(html('> wise words\n\n---\n\n```\nconst a = 1 < 2\n```')).toBe('<div><blockquote><p>wise words</p></blockquote><hr/><pre><code>const a = 1 &lt; 2</code></pre></div>')
    })

    it('links with rel=nofollow noopener, autolinks and mailto', () => {
      expect(html('[my site](https://example.com/a?b=1) and <https://example.org>')).toBe(
        '<div><p><a href="https://example.com/a?b=1" rel="nofollow noopener noreferrer ugc">my site</a> and <a href="https://example.org/" rel="nofollow noopener noreferrer ugc">https://example.org</a></p></div>',
      )
      expect(html('[write](mailto:ada@example.com)')).toContain('href="mailto:ada@example.com"')
    })

    it('leaves snake_case words, lone stars and escaped characters as typed', () => {
      expect(html('my_var_name is 2 * 3 \\*not emphasis\\*')).toBe('<div><p>my_var_name is 2 * 3 *not emphasis*</p></div>')
    })
  })

  describe('hostile input', () => {
    it('shows raw HTML as the characters typed, never as elements', () => {
      const out = html('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n**<b onclick="x()">hi</b>**')
      expect(out).not.toMatch(/<script|<img|<b /)
      expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
      expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;')
      expect(out).toContain('<strong>&lt;b onclick=&quot;x()&quot;&gt;hi&lt;/b&gt;</strong>')
    })

    it.each([
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      '//evil.example/path',
      '/relative',
      'https://ok.example/" onmouseover="alert(1)',
    ])('keeps the words but drops the link for %j', (target) => {
      const out = html(`[click me](${target})`)
      expect(out).not.toMatch(/<a /)
      expect(out).not.toMatch(/href/)
      expect(out).toContain('click me')
    })

    it('refuses unsafe autolinks and never puts a quote into an attribute', () => {
      expect(html('<javascript:alert(1)>')).not.toContain('<a ')
      expect(html('[x](https://ok.example/"><script>)')).not.toContain('<script')
      expect(safeHref('https://ok.example/a"b')).toBe('https://ok.example/a%22b')
    })

    it('bounds nesting, and renders pathological 5,000-character texts as text', () => {
      const nested = `${'**'.repeat(20)}deep${'**'.repeat(20)}`
      expect(html(nested)).toContain('deep')
      // Unclosed markers everywhere: each open one searches ahead, and all stay text.
      for (const source of ['*a '.repeat(1666), '['.repeat(5000), '[a]('.repeat(1250), 'a`'.repeat(2500), 'a_'.repeat(2500), '<a'.repeat(2500)]) {
        const out = html(source)
        expect(out.length).toBeGreaterThanOrEqual(source.length)
        expect(out).not.toMatch(/<(a|em|strong|code) /)
      }
    })
  })
})
