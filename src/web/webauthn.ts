/** Browser side of WebAuthn, using the JSON helpers every current browser ships. */
export async function webauthnCreate(options: unknown): Promise<unknown> {
  const credential = (await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options as PublicKeyCredentialCreationOptionsJSON) })) as PublicKeyCredential
  return credential.toJSON()
}

export async function webauthnGet(options: unknown): Promise<unknown> {
  const credential = (await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options as PublicKeyCredentialRequestOptionsJSON) })) as PublicKeyCredential
  return credential.toJSON()
}
