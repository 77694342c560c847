/** The upload shape avatar and logo routes share (why JSON: see ./routes.ts). */
import { Type } from 'typebox'

/** A route's own body limit for uploads, against the global 64 KiB; the decoded size is checked after. */
export const UPLOAD_BODY_LIMIT = 2 * 1024 * 1024

export const Upload = Type.Object(
  { image: Type.String({ minLength: 1, maxLength: UPLOAD_BODY_LIMIT, description: 'The PNG or JPEG file, base64-encoded, or as a `data:image/...;base64,` URL.' }) },
  { additionalProperties: false },
)
