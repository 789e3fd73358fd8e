using System.Buffers.Binary;

namespace FentaWeb.Domain.Media;

/// <summary>16-bit PCM audio in memory: enough to measure, pad and join speech exactly, sample by sample.</summary>
public sealed record PcmAudio(int SampleRate, short Channels, byte[] Data)
{
    private int BytesPerSecond => SampleRate * Channels * 2;

    public double DurationSeconds => (double)Data.Length / BytesPerSecond;

    public PcmAudio Silence(double seconds) => this with { Data = new byte[(int)Math.Round(seconds * SampleRate) * Channels * 2] };

    /// <summary>Joins clips of this format end to end.</summary>
    public static PcmAudio Concat(IReadOnlyList<PcmAudio> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to join", nameof(parts));
        var first = parts[0];
        if (parts.Any(p => p.SampleRate != first.SampleRate || p.Channels != first.Channels))
            throw new MediaException("cannot join audio of different sample rates or channel counts");
        var data = new byte[parts.Sum(p => p.Data.Length)];
        var offset = 0;
        foreach (var part in parts)
        {
            part.Data.CopyTo(data, offset);
            offset += part.Data.Length;
        }
        return first with { Data = data };
    }
}

/// <summary>Reads and writes RIFF/WAVE files with 16-bit PCM.</summary>
public static class Wav
{
    public static async Task<PcmAudio> ReadAsync(string path, CancellationToken ct)
    {
        var bytes = await File.ReadAllBytesAsync(path, ct);
        if (bytes.Length < 12 || BinaryPrimitives.ReadUInt32BigEndian(bytes) != 0x52494646 || BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8)) != 0x57415645)
            throw new MediaException($"{Path.GetFileName(path)} is not a WAV file");
        int? rate = null;
        short channels = 0;
        var position = 12;
        while (position + 8 <= bytes.Length)
        {
            var id = System.Text.Encoding.ASCII.GetString(bytes, position, 4);
            var size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(position + 4)), (uint)(bytes.Length - position - 8));
            var body = bytes.AsSpan(position + 8, size);
            if (id == "fmt ")
            {
                if (BinaryPrimitives.ReadInt16LittleEndian(body) != 1 || BinaryPrimitives.ReadInt16LittleEndian(body[14..]) != 16)
                    throw new MediaException($"{Path.GetFileName(path)} is not 16-bit PCM");
                channels = BinaryPrimitives.ReadInt16LittleEndian(body[2..]);
                rate = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
            }
            else if (id == "data" && rate is { } sampleRate)
            {
                return new PcmAudio(sampleRate, channels, body.ToArray());
            }
            position += 8 + size + (size & 1);
        }
        throw new MediaException($"{Path.GetFileName(path)} has no PCM data");
    }

    public static async Task WriteAsync(string path, PcmAudio audio, CancellationToken ct)
    {
        await using var file = File.Create(path);
        await file.WriteAsync(Header(audio), ct);
        await file.WriteAsync(audio.Data, ct);
    }

    /// <summary>The whole file in memory, for audio short enough to answer with (a voice's sample).</summary>
    public static byte[] Encode(PcmAudio audio) => [.. Header(audio), .. audio.Data];

    private static byte[] Header(PcmAudio audio)
    {
        var header = new byte[44];
        void Put(int at, string text) => System.Text.Encoding.ASCII.GetBytes(text).CopyTo(header, at);
        Put(0, "RIFF");
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), 36 + audio.Data.Length);
        Put(8, "WAVE");
        Put(12, "fmt ");
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(20), 1);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(22), audio.Channels);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(24), audio.SampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(28), audio.SampleRate * audio.Channels * 2);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(32), (short)(audio.Channels * 2));
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(34), 16);
        Put(36, "data");
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(40), audio.Data.Length);
        return header;
    }
}
