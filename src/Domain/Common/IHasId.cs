namespace FentaWeb.Domain.Common;

/// <summary>Rows that can be listed with a cursor: ids are time-ordered (UUIDv7), so id order is creation order.</summary>
public interface IHasId
{
    string Id { get; }
}
