// __APP_VERSION__ is replaced at build time (vite.config.js `define`) from APP_VERSION.
const app = document.getElementById('app')

function renderHome() {
  app.innerHTML = `<h1 id="home">${`Worker build ${__APP_VERSION__}`}</h1>
<nav><a id="to-reports" href="/reports">Reports</a></nav>`
  app.querySelector('#to-reports').addEventListener('click', (event) => {
    event.preventDefault()
    history.pushState(null, '', '/reports')
    renderReports()
  })
}

async function renderReports() {
  // Lazily imported: ./reports.js is its own JS chunk, fetched on the first click.
  const { render } = await import('./reports.js')
  render(app)
}

function route() {
  if (location.pathname === '/reports') renderReports()
  else renderHome()
}

window.addEventListener('popstate', route)
route()

// A module worker that makes requests of its own: its dynamic import (own chunk) and /data.json.
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
worker.addEventListener('message', (event) => {
  const p = document.createElement('p')
  p.id = event.data.ok ? 'worker-said' : 'worker-error'
  p.textContent = event.data.text
  document.body.append(p)
})
worker.addEventListener('error', (event) => {
  const p = document.createElement('p')
  p.id = 'worker-error'
  p.textContent = `worker failed: ${event.message || 'error'}`
  document.body.append(p)
})
