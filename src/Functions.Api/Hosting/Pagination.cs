using System.Text;
using FentaWeb.Domain.Common;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Hosting;

/// <summary>One page of a list, Stripe style: newest first, <c>next_cursor</c> until the end.</summary>
public sealed record Page<T>(IReadOnlyList<T> Data, string? NextCursor, bool HasMore);

/// <summary>The <c>limit</c> and <c>cursor</c> query parameters, checked here so a bad one is a 400 naming the field.</summary>
public sealed record PageQuery([FromQuery(Name = "limit")] string? Limit, [FromQuery(Name = "cursor")] string? Cursor)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public (int Limit, string? After) Parse()
    {
        var limit = DefaultLimit;
        if (Limit is not null && (!int.TryParse(Limit, out limit) || limit is < 1 or > MaxLimit))
            throw new ValidationFailedException("limit", $"must be an integer from 1 to {MaxLimit}");
        if (Cursor is null) return (limit, null);
        try
        {
            var padded = Cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var after = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            // Cursors are ids this API made ("wf_0193…"): anything else (bytes, NUL) never reaches the database.
            return after.Length is > 0 and <= 64 && after.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? (limit, after) : throw new FormatException();
        }
        catch (FormatException)
        {
            throw new ValidationFailedException("cursor", "is not a cursor this API returned");
        }
    }

    public static string Encode(string id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(id)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public static class PaginationExtensions
{
    public static async Task<Page<TOut>> ToPageAsync<T, TOut>(this IQueryable<T> query, PageQuery page, Func<T, TOut> map, CancellationToken ct)
        where T : class, IHasId
    {
        var (limit, after) = page.Parse();
        if (after is not null) query = query.Where(x => string.Compare(x.Id, after) < 0);
        var rows = await query.OrderByDescending(x => x.Id).Take(limit + 1).ToListAsync(ct);
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(limit);
        return new Page<TOut>(rows.Select(map).ToList(), hasMore ? PageQuery.Encode(rows[^1].Id) : null, hasMore);
    }
}
