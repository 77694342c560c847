/** True when a write broke a UNIQUE index, on either backend. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errcode?: string; message?: string }
  return e?.code === '23505' || /UNIQUE constraint failed/i.test(e?.message ?? '')
}

/** True when a write broke a foreign key, on either backend. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string }
  return e?.code === '23503' || /FOREIGN KEY constraint failed/i.test(e?.message ?? '')
}
