// Module worker. Its own requests: the dynamic import of ./heavy.js (own chunk) and /data.json.
try {
  const [{ crunch }, data] = await Promise.all([
    import('./heavy.js'),
    fetch('/data.json').then((response) => {
      if (!response.ok) throw new Error(`/data.json: HTTP ${response.status}`)
      return response.json()
    }),
  ])
  self.postMessage({
    ok: true,
    text: `${`worker build ${__APP_VERSION__}`}: crunch=${crunch(data.answer)} answer=${data.answer}`,
  })
} catch (error) {
  self.postMessage({ ok: false, text: `worker failed: ${error}` })
}
