import { Link } from 'react-router';
import { EmptyState } from '@/components/ui/feedback';
import { Button } from '@/components/ui/button';

export default function NotFound() {
  return (
    <EmptyState title="Page not found" action={<Button asChild variant="secondary"><Link to="/">Go to the dashboard</Link></Button>}>
      There is nothing at this address.
    </EmptyState>
  );
}
