using System.Diagnostics.Metrics;
using FentaWeb.Runs;

namespace FentaWeb.Testing;

/// <summary>One measurement of a FentaWeb instrument, with its tags.</summary>
public sealed record Measured(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string name) => Tags.GetValueOrDefault(name)?.ToString();

    public override string ToString() => $"{Instrument} {Value} {{{string.Join(", ", Tags.Select(t => $"{t.Key}={t.Value}"))}}}";
}

/// <summary>
/// Every measurement of FentaWeb's instruments (meter "FentaWeb") while it lives, from every host in the test process.
/// Other test classes run at the same time, so a test picks out its own by a tag only its work has.
/// </summary>
public sealed class Measurements : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<Measured> _seen = [];

    public Measurements()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Telemetry.Name) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var measured = new Measured(instrument.Name, value, new Dictionary<string, object?>(tags.ToArray()));
        lock (_seen) _seen.Add(measured);
    }

    /// <summary>What <paramref name="instrument"/> measured so far.</summary>
    public List<Measured> Of(string instrument)
    {
        lock (_seen) return _seen.Where(m => m.Instrument == instrument).ToList();
    }

    /// <summary>Waits (up to 30 s) for a measurement of <paramref name="instrument"/> that <paramref name="matches"/>: some are recorded just after what a test waits on.</summary>
    public async Task<Measured> WaitForAsync(string instrument, Func<Measured, bool> matches)
    {
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); ; await Task.Delay(50))
        {
            if (Of(instrument).FirstOrDefault(matches) is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no {instrument} measurement matched; seen: {string.Join("; ", Of(instrument))}");
        }
    }

    public void Dispose() => _listener.Dispose();
}
