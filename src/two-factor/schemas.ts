/**
 * Shapes of the two-factor routes (./routes.ts).
 * Imports only typebox, so src/web takes the `Static<>` types without pulling in server code
 * (scripts/check-imports.ts checks that).
 */
import { Type, type Static } from 'typebox'

// No minLength: an empty password gets "Enter your password." on its field (verifyPasswordOf),
// not a schema message naming the field.
export const PasswordBody = Type.Object({ password: Type.String({ maxLength: 512 }) }, { additionalProperties: false })
export const TwoFactorStatus = Type.Object({ enabled: Type.Boolean(), enabledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]), recoveryCodesRemaining: Type.Integer(), setupPending: Type.Boolean() })
/** The TOTP secret, its `otpauth://` URI and the QR code (a PNG data URL) of a set-up begun. */
export const TwoFactorSetup = Type.Object({ secret: Type.String(), otpauthUri: Type.String(), qrCode: Type.String() })
export const TwoFactorEnabled = Type.Object({ recoveryCodes: Type.Array(Type.String()), otherSessionsRevoked: Type.Integer(), token: Type.Optional(Type.String()) })
export const RecoveryCodes = Type.Object({ recoveryCodes: Type.Array(Type.String()) })

export type TwoFactorStatus = Static<typeof TwoFactorStatus>
export type TwoFactorSetup = Static<typeof TwoFactorSetup>
export type TwoFactorEnabled = Static<typeof TwoFactorEnabled>
export type RecoveryCodes = Static<typeof RecoveryCodes>
