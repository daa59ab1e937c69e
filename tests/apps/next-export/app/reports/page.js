'use client';
// Client component: the string lands in the reports route's own chunk.
export default function Reports() {
  return (
    <main>
      <h1 id="reports">{`Reports build ${process.env.NEXT_PUBLIC_APP_VERSION}`}</h1>
    </main>
  );
}
