// The part of autocannon 9's API the bench uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  namespace autocannon {
    interface Request {
      method?: string
      path?: string
      headers?: Record<string, string>
      body?: string
      setupRequest?: (request: Request, context: Record<string, unknown>) => Request
    }

    interface Options {
      url: string
      connections?: number
      amount?: number
      duration?: number
      timeout?: number
      requests?: Request[]
      renderProgressBar?: boolean
      renderResultsTable?: boolean
      renderLatencyTable?: boolean
    }

    interface Result {
      '2xx': number
      non2xx: number
      errors: number
      timeouts: number
      statusCodeStats: Record<string, { count: number }>
    }

    interface Instance extends EventEmitter {
      stop(): void
    }
  }

  function autocannon(options: autocannon.Options, callback: (err: Error | null, result: autocannon.Result) => void): autocannon.Instance
  export default autocannon
}
