import { Link } from 'react-router'


export default function Reports() {
  return (
    <main>
      <h1 id="reports">{`Reports build ${__APP_VERSION__}`}</h1>
      <nav>
        <Link id="to-home" to="/">Home</Link>
      </nav>
    </main>
  )
}
