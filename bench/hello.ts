/** Floor: a bare node:http server answering "hello" (the same as the peer harness's hello.mjs). */
import http from 'node:http'

const port = Number(process.env.PORT || 3101)
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('hello')
})
server.keepAliveTimeout = 65_000
server.listen(port, '127.0.0.1', () => console.log(`hello server on 127.0.0.1:${port}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
