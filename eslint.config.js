// @ts-check
/**
 * The linter `npm test` runs before the suites (`npm run lint` alone), with zero warnings allowed.
 * Rules are chosen for the bugs they catch, not for style: promises nobody awaits or that are
 * handed where a void callback is expected (a rejected one becomes an unhandled rejection that
 * stops the process), unused code, `any` leaking into the server, and the rules of React hooks.
 */
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import reactHooks from 'eslint-plugin-react-hooks'
import globals from 'globals'

export default tseslint.config(
  { ignores: ['dist/', 'data/', 'coverage/', 'node_modules/', 'bench/results/', 'docs/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  { rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        // Each file is checked with the tsconfig that owns it: tsconfig.json for the server, tests,
        // scripts and bench; src/web/tsconfig.json for the web app.
        projectService: { allowDefaultProject: ['*.js', '*.ts', 'bin/*.js', 'src/web/vite.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Type-aware: the rules that find real bugs, not the whole (slow, stylistic) type-checked set.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/web/**/*.{ts,tsx}'],
    ignores: ['src/web/vite.config.ts'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // It reads `useEffect(() => { void load() }, [])` as a synchronous setState even though load()
      // sets state only after an await: every hit in this app was that load-on-mount pattern.
      'react-hooks/set-state-in-effect': 'off',
    },
  },
  {
    // `any` switches type checking off; the server, the web app and the tests have none (a test
    // names the response type it reads, from the route's schema). Migrations are frozen in time
    // and type the database as Kysely<any> (STYLE.md, habit 8).
    files: ['src/**/*.{ts,tsx}', 'scripts/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    ignores: ['src/db/migrations/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
)
