'use client';
// A client component, so that the visible string is compiled into the page's
// client chunk (its hashed name changes between v1 and v2), not only into the
// prerendered HTML and RSC payload.
import Link from 'next/link';

export default function Home() {
  return (
    <main>
      <h1 id="home">{`Home build ${process.env.NEXT_PUBLIC_APP_VERSION}`}</h1>
      <Link id="to-reports" href="/reports">Reports</Link>
    </main>
  );
}
