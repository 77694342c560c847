/**
 * A real authoritative DNS server on loopback (UDP), speaking the DNS wire format through
 * dns-packet, for the tests of team domain verification: Latchkey's node:dns Resolver is
 * pointed at it with DNS_SERVERS, and queries it like any name server.
 *
 * Names it knows answer their TXT records (or no data); unknown names answer NXDOMAIN.
 * `failWith('SERVFAIL')` makes every answer a server failure; `failWith('silence')` drops queries.
 */
import dgram from 'node:dgram'
import type { AddressInfo } from 'node:net'
import * as dnsPacket from 'dns-packet'

type Failure = 'SERVFAIL' | 'REFUSED' | 'silence'
const RCODES = { NXDOMAIN: 3, SERVFAIL: 2, REFUSED: 5 } as const

export class DnsServer {
  readonly #socket = dgram.createSocket('udp4')
  readonly #txt = new Map<string, string[][]>()
  #failure: Failure | null = null
  /** Names asked for, in order (lower-cased), so a test can see a lookup really happened. */
  readonly queries: string[] = []

  async start(): Promise<this> {
    this.#socket.on('message', (message, remote) => this.#answer(message, remote))
    await new Promise<void>((resolve, reject) => {
      this.#socket.once('error', reject)
      this.#socket.bind(0, '127.0.0.1', () => resolve())
    })
    return this
  }

  /** `127.0.0.1:<port>`, as DNS_SERVERS takes it. */
  get address(): string {
    return `127.0.0.1:${(this.#socket.address() as AddressInfo).port}`
  }

  /** Publishes TXT records at `name`; each value may be split in 255-byte strings like real zones do. */
  setTxt(name: string, values: (string | string[])[]): void {
    this.#txt.set(name.toLowerCase(), values.map((v) => (Array.isArray(v) ? v : [v])))
  }

  remove(name: string): void {
    this.#txt.delete(name.toLowerCase())
  }

  failWith(failure: Failure | null): void {
    this.#failure = failure
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()))
  }

  #answer(message: Buffer, remote: dgram.RemoteInfo): void {
    let query: dnsPacket.Packet
    try {
      query = dnsPacket.decode(message)
    } catch {
      return
    }
    const question = query.questions?.[0]
    if (question) this.queries.push(question.name.toLowerCase())
    if (this.#failure === 'silence') return
    // The response code rides in the low 4 bits of the header flags (RFC 1035 §4.1.1).
    const flags = (rcode: number) => dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | rcode
    const base = { type: 'response' as const, id: query.id, questions: query.questions }
    let response: dnsPacket.Packet
    if (this.#failure) {
      response = { ...base, flags: flags(RCODES[this.#failure]) }
    } else if (!question || !this.#txt.has(question.name.toLowerCase())) {
      response = { ...base, flags: flags(RCODES.NXDOMAIN) }
    } else {
      const records = question.type === 'TXT' ? this.#txt.get(question.name.toLowerCase())! : []
      response = { ...base, flags: flags(0), answers: records.map((chunks) => ({ type: 'TXT' as const, name: question.name, class: 'IN' as const, ttl: 60, data: chunks })) }
    }
    this.#socket.send(dnsPacket.encode(response), remote.port, remote.address)
  }
}
