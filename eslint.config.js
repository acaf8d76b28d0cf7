import tseslint from 'typescript-eslint'

// The layering of design.md: commands -> core, commands -> protocols, protocols -> core.
// core imports neither oclif nor a protocol; protocols never reach into a store.
export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**']},
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {sourceType: 'commonjs', globals: {require: 'readonly', process: 'readonly'}},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          {group: ['@oclif/*', 'listr2', 'cli-progress'], message: 'core must not know it runs in a CLI'},
          {group: ['**/protocols/**', '**/commands/**'], message: 'core must not import protocols or commands'},
        ],
      }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/protocols/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          {group: ['**/core/store/**', '@aws-sdk/*'], message: 'protocols go through core/fs or core/blockdev, never a store'},
          {group: ['@oclif/*', '**/commands/**'], message: 'protocols must not import commands'},
        ],
      }],
      'no-console': 'error',
    },
  },
)
