using Microsoft.Extensions.Logging;

namespace Sluice.Server.Tests.Support;

/// <summary>A logger that keeps every message with its event id, for tests of what a component logs.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly Lock _lock = new();
    private readonly List<(int Id, string Message)> _entries = [];

    public IReadOnlyList<(int Id, string Message)> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lock)
        {
            _entries.Add((eventId.Id, formatter(state, exception)));
        }
    }
}
