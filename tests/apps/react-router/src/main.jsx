import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { createBrowserRouter, RouterProvider, Link } from 'react-router'

// __APP_VERSION__ is replaced at build time (vite.config.js `define`) from APP_VERSION.
function Home() {
  return (
    <main>
      <h1 id="home">{`Home build ${__APP_VERSION__}`}</h1>
      <nav>
        <Link id="to-reports" to="/reports">Reports</Link>
      </nav>
    </main>
  )
}

const router = createBrowserRouter([
  { path: '/', Component: Home },
  {
    path: '/reports',
    // Route-level lazy: ./Reports.jsx becomes its own JS chunk, fetched on navigation.
    lazy: async () => {
      const { default: Component } = await import('./Reports.jsx')
      return { Component }
    },
  },
])

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
)
