import { forwardRef, useId, type InputHTMLAttributes, type ReactNode } from 'react';
import { cn } from '@/lib/cn';

/**
 * A native checkbox with its label (click the text to toggle; tests find it with getByLabelText / getByRole('checkbox')).
 *   <Checkbox label="jobs:execute" hint="Start jobs" {...register('scopes')} value="jobs:execute" />
 */
export const Checkbox = forwardRef<HTMLInputElement, Omit<InputHTMLAttributes<HTMLInputElement>, 'type'> & { label: ReactNode; hint?: ReactNode }>(
  ({ label, hint, className, id, ...props }, ref) => {
    const auto = useId();
    const inputId = id ?? auto;
    return (
      <div className={cn('flex items-start gap-2', className)}>
        <input
          ref={ref}
          id={inputId}
          type="checkbox"
          className="mt-0.5 size-4 shrink-0 rounded border-neutral-300 accent-accent-600 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500"
          aria-describedby={hint ? `${inputId}-hint` : undefined}
          {...props}
        />
        <div className="min-w-0 text-sm leading-tight">
          <label htmlFor={inputId} className="font-medium text-neutral-800">
            {label}
          </label>
          {hint && (
            <p id={`${inputId}-hint`} className="text-xs text-neutral-500">
              {hint}
            </p>
          )}
        </div>
      </div>
    );
  },
);
Checkbox.displayName = 'Checkbox';
