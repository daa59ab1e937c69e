export function render(app) {
  app.innerHTML = `<h1 id="reports">${`Reports build ${__APP_VERSION__}`}</h1>
<nav><a id="to-home" href="/">Home</a></nav>`
  app.querySelector('#to-home').addEventListener('click', (event) => {
    event.preventDefault()
    history.pushState(null, '', '/')
    window.dispatchEvent(new PopStateEvent('popstate'))
  })
}
