using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Errors the API logged while the tests ran, so a test that gets an unexpected 500 shows why (the host's console is not
/// part of a test's output). Kept across hosts: the last few are enough to find the one that matters.
/// </summary>
public sealed class ServerErrors : ILoggerProvider, ILogger
{
    public static ServerErrors Instance { get; } = new();
    private readonly ConcurrentQueue<string> _errors = new();

    public static string Recent() => string.Join("\n---\n", Instance._errors.TakeLast(5));

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        _errors.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {formatter(state, exception)}\n{exception}");
        while (_errors.Count > 20) _errors.TryDequeue(out _);
    }

    public void Dispose() { }
}
