export const metadata = {
  title: 'rollprobe next-export fixture',
};

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
