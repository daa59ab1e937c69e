import './style.css'

// __APP_VERSION__ is replaced at build time (vite.config.js `define`) from APP_VERSION.
const app = document.getElementById('app')

function renderHome() {
  app.innerHTML = `<h1 id="home">${`PWA build ${__APP_VERSION__}`}</h1>
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
